#include "bus/request.h"

#include <boost/json.hpp>
#include <cmath>

#include "lwm2m/codec/text.h"

namespace fogm2m::bus {

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
    {RequestKind::kReadComposite, "read_composite", "readComposite"},
    {RequestKind::kWriteComposite, "write_composite", "writeComposite"},
    {RequestKind::kObserveComposite, "observe_composite", "observeComposite"},
    {RequestKind::kCancelObserveComposite, "cancel_observe_composite",
     "cancelCompositeObservation"},
};

Error bad(const std::string& why) {
  return make_error(ErrorKind::kMalformed, "bus request: " + why);
}

const json::string* string_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? v->if_string() : nullptr;
}

// The first number of `v` (at any depth) that is not finite, if any: JSON
// has no infinity, but Boost.JSON reads a number too large for a double
// (1e999) as one, and would write it back as text that is not JSON.
const json::value* non_finite_number(const json::value& v) {
  if (v.is_double()) return std::isfinite(v.get_double()) ? nullptr : &v;
  if (const json::array* a = v.if_array()) {
    for (const json::value& e : *a)
      if (const json::value* bad = non_finite_number(e)) return bad;
  } else if (const json::object* o = v.if_object()) {
    for (const auto& kv : *o)
      if (const json::value* bad = non_finite_number(kv.value())) return bad;
  }
  return nullptr;
}

Result<Request> parse_req(const json::object& root, Request r) {
  const json::value* reqv = root.if_contains("req");
  if (!reqv || !reqv->is_object()) return bad("\"req\" must be an object");
  const json::object& req = reqv->get_object();
  const json::string* kind = string_field(req, "kind");
  if (!kind) return bad("\"req.kind\" must be a string");
  const std::optional<RequestKind> known = parse_request_kind(*kind);
  if (!known) return bad("unknown kind \"" + std::string(*kind) + "\"");
  r.kind = *known;

  if (r.kind == RequestKind::kSecInfo) {
    const json::string* action = string_field(req, "action");
    if (!action) return bad("sec_info needs \"action\": add, get or delete");
    if (*action == "add")
      r.sec_action = SecInfoAction::kAdd;
    else if (*action == "get")
      r.sec_action = SecInfoAction::kGet;
    else if (*action == "delete" || *action == "remove")
      r.sec_action = SecInfoAction::kDelete;
    else
      return bad("sec_info action \"" + std::string(*action) + "\" is not add, get or delete");
    if (r.sec_action == SecInfoAction::kAdd) {
      const json::string* id = string_field(req, "identity");
      const json::string* key = string_field(req, "key");
      if (!id || !key) return bad("sec_info add needs \"identity\" and \"key\" (hex) strings");
      r.identity = std::string(*id);
      r.key_hex = std::string(*key);
    }
    return r;
  }
  if (is_composite(r.kind)) return detail::parse_composite(req, std::move(r));  // composite.cc

  const json::string* path = string_field(req, "path");
  if (!path) return bad("\"req.path\" must be a string");
  auto p = lwm2m::Path::parse(*path);
  if (!p) return bad(p.error().message);
  r.path = *p;
  if (r.path.is_root()) return bad("path \"/\" addresses no object");

  if (const json::value* cf = req.if_contains("contentFormat")) {
    std::optional<lwm2m::ContentFormat> f;
    if (cf->is_string())
      f = lwm2m::parse_content_format(cf->get_string());
    else if (cf->is_int64() && cf->get_int64() >= 0)
      f = lwm2m::content_format_from_number(static_cast<uint32_t>(cf->get_int64()));
    if (!f) return bad("unknown contentFormat " + json::serialize(*cf));
    r.content_format = f;
  }

  switch (r.kind) {
    case RequestKind::kWrite:
    case RequestKind::kCreate: {
      if (const json::string* mode = string_field(req, "mode")) {
        if (*mode == "replace" || *mode == "REPLACE")
          r.replace = true;
        else if (*mode == "update" || *mode == "UPDATE")
          r.replace = false;
        else
          return bad("write mode \"" + std::string(*mode) + "\" is not replace or update");
      }
      if (const json::value* node = req.if_contains("node")) {
        r.node = *node;
      } else if (const json::value* value = req.if_contains("value");
                 value && r.path.depth() >= 3) {
        // Shorthand for a single value: {"path":"/3/0/14","value":"+02"}.
        r.node = single_value_node(r.path, *value);
        if (const json::string* type = string_field(req, "type"))
          r.node->get_object()["type"] = *type;
      } else {
        return bad(std::string(to_string(r.kind)) +
                   " needs \"node\" (or \"value\" for a resource)");
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
      if (!attrs || !attrs->is_object())
        return bad("write_attributes needs an \"attributes\" object");
      for (const auto& kv : attrs->get_object()) {
        const json::value& v = kv.value();
        if (!v.is_number())
          return bad("attribute \"" + std::string(kv.key()) + "\" must be a number");
        const double d = v.to_number<double>();  // finite: checked for the whole message
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
          return bad("unknown attribute \"" + std::string(kv.key()) +
                     "\" (pmin, pmax, gt, lt, st)");
        }
      }
      if (r.attributes.empty()) return bad("write_attributes needs at least one attribute");
      break;
    }
    case RequestKind::kCancelObserve:
      if (const json::string* t = string_field(req, "observeTicket"))
        r.observe_ticket = std::string(*t);
      break;
    default:
      break;
  }
  return r;
}

// {"ep","ticket"[,"timeout"],"req"}: the message of `r` around its "req".
json::object request_root(const Request& r, json::object req) {
  json::object root(r.timeout_ms ? 4 : 3);
  root.emplace("ep", r.endpoint);
  root.emplace("ticket", r.ticket);
  if (r.timeout_ms) root.emplace("timeout", *r.timeout_ms);
  root.emplace("req", std::move(req));
  return root;
}

}  // namespace

const char* to_string(RequestKind kind) {
  for (const auto& k : kKinds)
    if (k.kind == kind) return k.name;
  return "?";
}

std::optional<RequestKind> parse_request_kind(std::string_view name) {
  for (const auto& k : kKinds)
    if (name == k.name || name == k.alias) return k.kind;
  return std::nullopt;
}

json::value single_value_node(const lwm2m::Path& path, json::value value) {
  return json::object{{"id", path.id(path.depth() - 1)}, {"value", std::move(value)}};
}

std::vector<std::string> NotificationAttributes::to_queries() const {
  std::vector<std::string> q;
  if (pmin) q.push_back("pmin=" + std::to_string(*pmin));
  if (pmax) q.push_back("pmax=" + std::to_string(*pmax));
  if (gt) q.push_back("gt=" + lwm2m::text::format_double(*gt));
  if (lt) q.push_back("lt=" + lwm2m::text::format_double(*lt));
  if (st) q.push_back("st=" + lwm2m::text::format_double(*st));
  return q;
}

ParsedRequest parse_request(std::string_view message) {
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
  if (non_finite_number(v) != nullptr) {
    out.request = bad("a number is too large (not finite)");
    return out;
  }
  Request r;
  r.ticket = *out.ticket;
  r.endpoint = *out.endpoint;
  if (const json::value* t = root->if_contains("timeout")) {
    if (!t->is_int64() || t->get_int64() <= 0) {
      out.request = bad("\"timeout\" must be a positive integer of milliseconds");
      return out;
    }
    r.timeout_ms = t->get_int64();
  }
  out.request = parse_req(*root, std::move(r));
  return out;
}

std::string format_request(const Request& r) {
  if (is_composite(r.kind)) {
    return json::serialize(request_root(r, detail::format_composite(r)));
  }
  json::object req{{"kind", to_string(r.kind)}};
  if (r.kind == RequestKind::kSecInfo) {
    req["action"] = r.sec_action == SecInfoAction::kAdd   ? "add"
                    : r.sec_action == SecInfoAction::kGet ? "get"
                                                          : "delete";
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
  return json::serialize(request_root(r, std::move(req)));
}

}  // namespace fogm2m::bus
