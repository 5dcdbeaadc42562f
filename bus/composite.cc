// The composite kinds (LwM2M 1.1 TS-Core 6.3.x, 6.4.x) on the bus: their
// requests' members (request.h) and their replies (reply.h). Apart from
// request.cc and reply.cc so that the single-path kinds' codecs, the hot
// paths, compile exactly as before.
#include <algorithm>
#include <boost/json.hpp>

#include "bus/json_text.h"
#include "bus/node_json.h"
#include "bus/reply.h"
#include "bus/request.h"
#include "lwm2m/coap_code.h"

namespace fogm2m::bus {

namespace json = boost::json;

namespace {

// ---- Requests -------------------------------------------------------------------------

Error bad(const std::string& why) {
  return make_error(ErrorKind::kMalformed, "bus request: " + why);
}

const json::string* string_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? v->if_string() : nullptr;
}

// A composite path: any path but the root, canonical ("/3/0/" is "/3/0").
Result<lwm2m::Path> composite_path(std::string_view text, std::string_view where) {
  auto p = lwm2m::Path::parse(text);
  if (!p) return bad(std::string(where) + ": " + p.error().message);
  if (p->is_root()) return bad(std::string(where) + ": path \"/\" addresses no object");
  return *p;
}

// ---- Replies --------------------------------------------------------------------------

Error malformed_reply(std::string why) {
  return make_error(ErrorKind::kMalformed, "bus reply: " + std::move(why));
}

// Appends `"name":` (`name` needs no escaping).
void append_key(std::string& out, std::string_view name) {
  out += ",\"";
  out += name;
  out += "\":";
}

// The opening of every reply: {"ticket":"...","rep":
void open_rep(std::string& out, std::string_view ticket) {
  out += "{\"ticket\":";
  append_json_string(out, ticket);
  out += ",\"rep\":";
}

// The members of a composite answer's rep object, without its closing brace.
void append_composite_response(std::string& out, const CompositeResponse& r) {
  out += "{\"code\":";
  append_json_string(out, lwm2m::coap_code_name(r.code));
  append_key(out, "coapCode");
  append_json_string(out, lwm2m::coap_code_string(r.code));
  if (!r.error_message.empty()) {
    append_key(out, "errorMessage");
    append_json_string(out, r.error_message);
  }
  if (r.content) {
    append_key(out, "contentFormat");
    append_json_string(out,
                       lwm2m::to_name(r.content_format.value_or(lwm2m::ContentFormat::kSenmlJson)));
    append_key(out, "content");
    out += '{';
    bool first = true;
    for (const PathContent& c : *r.content) {
      if (!first) out += ',';
      first = false;
      out += '"';
      c.path.append_to(out);  // digits and slashes: nothing to escape
      out += "\":";
      if (c.node) {
        append_node_json(out, *c.node);
      } else {
        out += "null";
      }
    }
    out += '}';
  }
  if (r.observe) {
    append_key(out, "observe");
    out += *r.observe ? "true" : "false";
    append_key(out, "token");
    append_json_string(out, r.token_hex);
  }
}

// The code of a rep's "coapCode" ("2.05"), or nullopt.
std::optional<uint8_t> rep_code(const json::object& rep) {
  const json::value* v = rep.if_contains("coapCode");
  const json::string* code = v ? v->if_string() : nullptr;
  if (code == nullptr || code->size() != 4) return std::nullopt;
  const json::string& c = *code;
  if (c[1] != '.' || c[0] < '0' || c[0] > '7' || c[2] < '0' || c[2] > '3' || c[3] < '0' ||
      c[3] > '9')
    return std::nullopt;
  return lwm2m::coap_code(c[0] - '0', (c[2] - '0') * 10 + (c[3] - '0'));
}

}  // namespace

// ---- Requests -------------------------------------------------------------------------

namespace detail {

// The members of a composite request after "kind" (bus/request.h).
Result<Request> parse_composite(const json::object& req, Request r) {
  if (const json::value* cf = req.if_contains("contentFormat")) {
    std::optional<lwm2m::ContentFormat> f;
    if (cf->is_string())
      f = lwm2m::parse_content_format(cf->get_string());
    else if (cf->is_int64() && cf->get_int64() >= 0)
      f = lwm2m::content_format_from_number(static_cast<uint32_t>(cf->get_int64()));
    if (!f) return bad("unknown contentFormat " + json::serialize(*cf));
    if (*f != lwm2m::ContentFormat::kSenmlJson && *f != lwm2m::ContentFormat::kSenmlCbor)
      return bad(std::string(to_string(r.kind)) + " travels in SENML_JSON or SENML_CBOR, not " +
                 lwm2m::to_name(*f));
    r.content_format = f;
  }
  if (r.kind == RequestKind::kWriteComposite) {
    const json::value* nodes = req.if_contains("nodes");
    const bool shorthand = nodes == nullptr;
    if (shorthand) nodes = req.if_contains("values");
    if (!nodes || !nodes->is_object() || nodes->get_object().empty())
      return bad("write_composite needs \"nodes\" (path -> node) or \"values\" (path -> value)");
    json::object canonical;
    for (const auto& kv : nodes->get_object()) {
      auto p = composite_path(kv.key(), "write_composite");
      if (!p) return p.error();
      const std::string key = p->to_string();
      if (canonical.contains(key)) return bad("write_composite: " + key + " is given twice");
      if (!shorthand) {
        if (!kv.value().is_object())
          return bad("write_composite: the node of " + key + " is not an object");
        canonical[key] = kv.value();
      } else {
        if (p->depth() < 3)
          return bad("write_composite: \"values\" need resource paths, got " + key);
        canonical[key] = single_value_node(*p, kv.value());
      }
    }
    r.node = json::value(std::move(canonical));
    return r;
  }
  if (const json::value* paths = req.if_contains("paths")) {
    if (!paths->is_array()) return bad("\"paths\" must be an array of paths");
    for (const json::value& v : paths->get_array()) {
      if (!v.is_string()) return bad("\"paths\" must be an array of paths");
      auto p = composite_path(v.get_string(), "paths");
      if (!p) return p.error();
      if (std::find(r.paths.begin(), r.paths.end(), *p) != r.paths.end())
        return bad("paths: " + p->to_string() + " is listed twice");
      r.paths.push_back(*p);
    }
  }
  if (r.kind == RequestKind::kCancelObserveComposite) {
    if (const json::string* t = string_field(req, "observeTicket"))
      r.observe_ticket = std::string(*t);
    if (r.observe_ticket.empty() && r.paths.empty())
      return bad("cancel_observe_composite needs \"observeTicket\" or \"paths\"");
    return r;
  }
  if (r.paths.empty())
    return bad(std::string(to_string(r.kind)) + " needs \"paths\": a non-empty array of paths");
  return r;
}

// The composite request's "req" object.
json::object format_composite(const Request& r) {
  json::object req{{"kind", to_string(r.kind)}};
  if (!r.paths.empty()) {
    json::array paths;
    for (const lwm2m::Path& p : r.paths) paths.push_back(json::value(p.to_string()));
    req["paths"] = std::move(paths);
  }
  if (r.content_format) req["contentFormat"] = lwm2m::to_name(*r.content_format);
  if (r.kind == RequestKind::kWriteComposite && r.node) req["nodes"] = *r.node;
  if (!r.observe_ticket.empty()) req["observeTicket"] = r.observe_ticket;
  return req;
}

}  // namespace detail

std::vector<std::pair<lwm2m::Path, const json::value*>> composite_nodes(const Request& request) {
  std::vector<std::pair<lwm2m::Path, const json::value*>> out;
  const json::object* nodes = request.node ? request.node->if_object() : nullptr;
  if (request.kind != RequestKind::kWriteComposite || nodes == nullptr) return out;
  for (const auto& kv : *nodes) {
    auto p = lwm2m::Path::parse(kv.key());
    if (!p || p->is_root()) return {};
    out.emplace_back(*p, &kv.value());
  }
  return out;
}

// ---- Replies --------------------------------------------------------------------------

std::string format_composite_rep(std::string_view ticket, const CompositeResponse& response) {
  std::string out;
  out.reserve(96 + ticket.size());
  open_rep(out, ticket);
  append_composite_response(out, response);
  out += "}}";
  return out;
}

std::string format_composite_notification(std::string_view ticket,
                                          const CompositeResponse& response,
                                          const CompositeSource& source) {
  std::string out;
  out.reserve(192 + ticket.size() + source.endpoint.size());
  open_rep(out, ticket);
  append_composite_response(out, response);
  out += ",\"notification\":true,\"ep\":";
  append_json_string(out, source.endpoint);
  out += ",\"paths\":[";
  bool first = true;
  for (const lwm2m::Path& p : source.paths) {
    if (!first) out += ',';
    first = false;
    out += '"';
    p.append_to(out);
    out += '"';
  }
  out += "]}}";
  return out;
}

Result<CompositeResponse> composite_response_from_json(const json::object& rep,
                                                       const lwm2m::ModelRegistry& models) {
  auto field = [](std::string_view name, std::string_view why) {
    return malformed_reply("rep \"" + std::string(name) + "\" " + std::string(why));
  };
  CompositeResponse r;
  const std::optional<uint8_t> code = rep_code(rep);
  if (!code) return field("coapCode", "must be a code like \"2.05\"");
  r.code = *code;
  if (const json::value* m = rep.if_contains("errorMessage")) {
    if (!m->is_string()) return field("errorMessage", "is not a string");
    r.error_message = std::string(m->get_string());
  }
  if (const json::value* content = rep.if_contains("content")) {
    const json::value* f = rep.if_contains("contentFormat");
    if (f == nullptr || !f->is_string()) return field("contentFormat", "is not a string");
    r.content_format = lwm2m::parse_content_format(f->get_string());
    if (!r.content_format) return field("contentFormat", "names no content format");
    if (!content->is_object()) return field("content", "is not an object of path -> node");
    r.content.emplace();
    for (const auto& kv : content->get_object()) {
      auto path = lwm2m::Path::parse(kv.key());
      if (!path || path->is_root())
        return field("content", "key \"" + std::string(kv.key()) + "\" is not a path");
      PathContent c{*path, std::nullopt};
      if (!kv.value().is_null()) {
        auto node = node_from_json(kv.value(), *path, models);
        if (!node) return field("content", path->to_string() + ": " + node.error().message);
        c.node = std::move(*node);
      }
      r.content->push_back(std::move(c));
    }
  }
  if (const json::value* observe = rep.if_contains("observe")) {
    if (!observe->is_bool()) return field("observe", "is not true or false");
    r.observe = observe->get_bool();
    const json::value* token = rep.if_contains("token");
    if (token != nullptr && !token->is_string()) return field("token", "is not a string");
    if (token != nullptr) r.token_hex = std::string(token->get_string());
  }
  return r;
}

}  // namespace fogm2m::bus
