#include "server/bus_message.h"

#include <boost/json.hpp>
#include <cmath>
#include <cstdio>

#include "server/json_text.h"
#include "server/node_json.h"

namespace fogm2m::server {

namespace json = boost::json;

namespace {

struct KindName {
  RequestKind kind;
  const char* name;
  const char* alias;  // Leshan cluster spelling
};

constexpr KindName kKinds[] = {
    {RequestKind::kRead, "read", "read"},
    {RequestKind::kDiscover, "discover", "discover"},
    {RequestKind::kWrite, "write", "write"},
    {RequestKind::kExecute, "execute", "exec"},
    {RequestKind::kCreate, "create", "create"},
    {RequestKind::kDelete, "delete", "delete"},
    {RequestKind::kObserve, "observe", "observe"},
    {RequestKind::kCancelObserve, "cancel_observe", "cancelObservation"},
    {RequestKind::kWriteAttributes, "write_attributes", "writeAttributes"},
    {RequestKind::kSecInfo, "sec_info", "secInfo"},
};

Error bad(const std::string& why) { return make_error(ErrorKind::kMalformed, "bus request: " + why); }

const json::string* string_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? v->if_string() : nullptr;
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  // Shortest form that reads back the same.
  for (int p = 1; p < 17; ++p) {
    char s[32];
    std::snprintf(s, sizeof s, "%.*g", p, v);
    if (std::strtod(s, nullptr) == v) return s;
  }
  return buf;
}

Result<BusRequest> parse_req(const json::object& root, BusRequest r) {
  const json::value* reqv = root.if_contains("req");
  if (!reqv || !reqv->is_object()) return bad("\"req\" must be an object");
  const json::object& req = reqv->get_object();
  const json::string* kind = string_field(req, "kind");
  if (!kind) return bad("\"req.kind\" must be a string");
  bool known = false;
  for (const auto& k : kKinds)
    if (*kind == k.name || *kind == k.alias) {
      r.kind = k.kind;
      known = true;
    }
  if (!known) return bad("unknown kind \"" + std::string(*kind) + "\"");

  if (r.kind == RequestKind::kSecInfo) {
    const json::string* action = string_field(req, "action");
    if (!action) return bad("sec_info needs \"action\": add, get or delete");
    if (*action == "add") r.sec_action = SecInfoAction::kAdd;
    else if (*action == "get") r.sec_action = SecInfoAction::kGet;
    else if (*action == "delete" || *action == "remove") r.sec_action = SecInfoAction::kDelete;
    else return bad("sec_info action \"" + std::string(*action) + "\" is not add, get or delete");
    if (r.sec_action == SecInfoAction::kAdd) {
      const json::string* id = string_field(req, "identity");
      const json::string* key = string_field(req, "key");
      if (!id || !key) return bad("sec_info add needs \"identity\" and \"key\" (hex) strings");
      r.identity = std::string(*id);
      r.key_hex = std::string(*key);
    }
    return r;
  }

  const json::string* path = string_field(req, "path");
  if (!path) return bad("\"req.path\" must be a string");
  auto p = lwm2m::Path::parse(*path);
  if (!p) return bad(p.error().message);
  r.path = *p;
  if (r.path.is_root()) return bad("path \"/\" addresses no object");

  if (const json::value* cf = req.if_contains("contentFormat")) {
    std::optional<lwm2m::ContentFormat> f;
    if (cf->is_string()) f = lwm2m::parse_content_format(cf->get_string());
    else if (cf->is_int64() && cf->get_int64() >= 0) f = lwm2m::content_format_from_number(static_cast<uint32_t>(cf->get_int64()));
    if (!f) return bad("unknown contentFormat " + json::serialize(*cf));
    r.content_format = f;
  }

  switch (r.kind) {
    case RequestKind::kWrite:
    case RequestKind::kCreate: {
      if (const json::string* mode = string_field(req, "mode")) {
        if (*mode == "replace" || *mode == "REPLACE") r.replace = true;
        else if (*mode == "update" || *mode == "UPDATE") r.replace = false;
        else return bad("write mode \"" + std::string(*mode) + "\" is not replace or update");
      }
      if (const json::value* node = req.if_contains("node")) {
        r.node = *node;
      } else if (const json::value* value = req.if_contains("value"); value && r.path.depth() >= 3) {
        // Shorthand for a single value: {"path":"/3/0/14","value":"+02"}.
        json::object n{{"id", r.path.id(r.path.depth() - 1)}, {"value", *value}};
        if (const json::string* type = string_field(req, "type")) n["type"] = *type;
        r.node = std::move(n);
      } else {
        return bad(std::string(to_string(r.kind)) + " needs \"node\" (or \"value\" for a resource)");
      }
      break;
    }
    case RequestKind::kExecute:
      if (const json::value* params = req.if_contains("parameters")) {
        if (!params->is_string()) return bad("execute \"parameters\" must be a string");
        r.parameters = std::string(params->get_string());
      }
      break;
    case RequestKind::kWriteAttributes: {
      const json::value* attrs = req.if_contains("attributes");
      if (!attrs || !attrs->is_object()) return bad("write_attributes needs an \"attributes\" object");
      for (const auto& kv : attrs->get_object()) {
        const json::value& v = kv.value();
        if (!v.is_number()) return bad("attribute \"" + std::string(kv.key()) + "\" must be a number");
        const double d = v.to_number<double>();
        if (kv.key() == "pmin" || kv.key() == "pmax") {
          if (d < 0 || d != std::floor(d) || d > 4294967295.0)
            return bad(std::string(kv.key()) + " must be an integer of seconds in 0..4294967295");
          (kv.key() == "pmin" ? r.attributes.pmin : r.attributes.pmax) = static_cast<int64_t>(d);
        } else if (kv.key() == "gt") {
          r.attributes.gt = d;
        } else if (kv.key() == "lt") {
          r.attributes.lt = d;
        } else if (kv.key() == "st") {
          if (d < 0) return bad("st must not be negative");
          r.attributes.st = d;
        } else {
          return bad("unknown attribute \"" + std::string(kv.key()) + "\" (pmin, pmax, gt, lt, st)");
        }
      }
      if (r.attributes.empty()) return bad("write_attributes needs at least one attribute");
      break;
    }
    case RequestKind::kCancelObserve:
      if (const json::string* t = string_field(req, "observeTicket")) r.observe_ticket = std::string(*t);
      break;
    default: break;
  }
  return r;
}

}  // namespace

const char* to_string(RequestKind kind) {
  for (const auto& k : kKinds)
    if (k.kind == kind) return k.name;
  return "?";
}

std::vector<std::string> NotificationAttributes::to_queries() const {
  std::vector<std::string> q;
  if (pmin) q.push_back("pmin=" + std::to_string(*pmin));
  if (pmax) q.push_back("pmax=" + std::to_string(*pmax));
  if (gt) q.push_back("gt=" + format_number(*gt));
  if (lt) q.push_back("lt=" + format_number(*lt));
  if (st) q.push_back("st=" + format_number(*st));
  return q;
}

ParsedRequest parse_bus_request(std::string_view message) {
  ParsedRequest out{std::nullopt, std::nullopt, bad("empty")};
  boost::system::error_code ec;
  json::value v = json::parse(message, ec);
  if (ec) {
    out.request = bad("invalid JSON: " + ec.message());
    return out;
  }
  const json::object* root = v.if_object();
  if (!root) {
    out.request = bad("not a JSON object");
    return out;
  }
  if (const json::string* t = string_field(*root, "ticket")) out.ticket = std::string(*t);
  if (const json::string* e = string_field(*root, "ep")) out.endpoint = std::string(*e);
  if (!out.ticket) {
    out.request = bad("\"ticket\" must be a string");
    return out;
  }
  if (out.ticket->empty()) {
    out.request = bad("\"ticket\" is empty");
    return out;
  }
  if (!out.endpoint || out.endpoint->empty()) {
    out.request = bad("\"ep\" must be a non-empty string");
    return out;
  }
  BusRequest r;
  r.ticket = *out.ticket;
  r.endpoint = *out.endpoint;
  out.request = parse_req(*root, std::move(r));
  return out;
}

std::string format_bus_request(const BusRequest& r) {
  json::object req{{"kind", to_string(r.kind)}};
  if (r.kind == RequestKind::kSecInfo) {
    req["action"] = r.sec_action == SecInfoAction::kAdd ? "add" : r.sec_action == SecInfoAction::kGet ? "get" : "delete";
    if (r.sec_action == SecInfoAction::kAdd) {
      req["identity"] = r.identity;
      req["key"] = r.key_hex;
    }
  } else {
    req["path"] = r.path.to_string();
  }
  if (r.content_format) req["contentFormat"] = lwm2m::to_name(*r.content_format);
  if (r.kind == RequestKind::kWrite) req["mode"] = r.replace ? "replace" : "update";
  if (r.node) req["node"] = *r.node;
  if (r.kind == RequestKind::kExecute && !r.parameters.empty()) req["parameters"] = r.parameters;
  if (r.kind == RequestKind::kWriteAttributes) {
    json::object a;
    if (r.attributes.pmin) a["pmin"] = *r.attributes.pmin;
    if (r.attributes.pmax) a["pmax"] = *r.attributes.pmax;
    if (r.attributes.gt) a["gt"] = *r.attributes.gt;
    if (r.attributes.lt) a["lt"] = *r.attributes.lt;
    if (r.attributes.st) a["st"] = *r.attributes.st;
    req["attributes"] = std::move(a);
  }
  if (!r.observe_ticket.empty()) req["observeTicket"] = r.observe_ticket;
  return json::serialize(json::object{{"ep", r.endpoint}, {"ticket", r.ticket}, {"req", std::move(req)}});
}

std::string format_ack(std::string_view ticket) {
  return json::serialize(json::object{{"ticket", ticket}, {"ack", true}});
}

std::string format_rep(std::string_view ticket, json::object rep) {
  return json::serialize(json::object{{"ticket", ticket}, {"rep", std::move(rep)}});
}

std::string format_err(std::string_view ticket, std::string_view message) {
  return json::serialize(json::object{{"ticket", ticket}, {"err", json::object{{"errorMessage", message}}}});
}

std::string format_content_notification(std::string_view ticket, std::string_view format_name,
                                        const lwm2m::Node& content, std::string_view endpoint,
                                        const lwm2m::Path& path) {
  std::string out;
  out.reserve(160 + ticket.size() + endpoint.size());
  out += "{\"ticket\":";
  append_json_string(out, ticket);
  out += ",\"rep\":{\"code\":\"CONTENT\",\"coapCode\":\"2.05\",\"contentFormat\":";
  append_json_string(out, format_name);
  out += ",\"content\":";
  append_node_json(out, content);
  out += ",\"notification\":true,\"ep\":";
  append_json_string(out, endpoint);
  out += ",\"path\":\"";
  path.append_to(out);  // digits and slashes: nothing to escape
  out += "\"}}";
  return out;
}

Result<BusReply> parse_bus_reply(std::string_view message) {
  boost::system::error_code ec;
  json::value v = json::parse(message, ec);
  if (ec || !v.is_object()) return make_error(ErrorKind::kMalformed, "bus reply: not a JSON object");
  json::object& o = v.get_object();
  const json::string* t = string_field(o, "ticket");
  if (!t) return make_error(ErrorKind::kMalformed, "bus reply: \"ticket\" must be a string");
  BusReply r;
  r.ticket = std::string(*t);
  if (json::value* rep = o.if_contains("rep"); rep && rep->is_object()) {
    r.type = BusReply::Type::kRep;
    r.body = std::move(rep->get_object());
  } else if (json::value* err = o.if_contains("err"); err && err->is_object()) {
    r.type = BusReply::Type::kErr;
    r.body = std::move(err->get_object());
  } else if (const json::value* ack = o.if_contains("ack"); ack && ack->is_bool()) {
    r.type = BusReply::Type::kAck;
  } else {
    return make_error(ErrorKind::kMalformed, "bus reply: needs \"ack\", \"rep\" or \"err\"");
  }
  return r;
}

}  // namespace fogm2m::server
