#include "bus/reply.h"

#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>

#include "bus/json_text.h"
#include "bus/node_json.h"
#include "lwm2m/coap_code.h"
#include "store/registration.h"

namespace fogm2m::bus {

namespace json = boost::json;

namespace {

// ---- Writing ----------------------------------------------------------------

// Appends `"name":` (`name` needs no escaping).
void append_key(std::string& out, std::string_view name) {
  out += ",\"";
  out += name;
  out += "\":";
}

// The opening of every reply: {"ticket":"...","<member>":
void open_reply(std::string& out, std::string_view ticket, std::string_view member) {
  out += "{\"ticket\":";
  append_json_string(out, ticket);
  out += ",\"";
  out += member;
  out += "\":";
}

// The members of a device answer's rep object, without its closing brace.
void append_device_response(std::string& out, const DeviceResponse& r) {
  out += "{\"code\":";
  append_json_string(out, lwm2m::coap_code_name(r.code));
  append_key(out, "coapCode");
  append_json_string(out, lwm2m::coap_code_string(r.code));
  if (!r.error_message.empty()) {
    append_key(out, "errorMessage");
    append_json_string(out, r.error_message);
  }
  if (!r.location.empty()) {
    append_key(out, "location");
    append_json_string(out, r.location);
  }
  if (r.links) {
    append_key(out, "links");
    out += json::serialize(store::links_to_json(*r.links));  // rare: discover only
  }
  if (r.content) {
    append_key(out, "contentFormat");
    append_json_string(out, lwm2m::to_name(r.content_format.value_or(lwm2m::ContentFormat::kTlv)));
    append_key(out, "content");
    append_node_json(out, *r.content);
  }
  if (r.observe) {
    append_key(out, "observe");
    out += *r.observe ? "true" : "false";
    append_key(out, "token");
    append_json_string(out, r.token_hex);
  }
}

// ---- Reading the head ---------------------------------------------------------

// A SAX handler that records the top-level "ticket" string and which of
// "ack", "rep" or "err" the message carries, and stops the parse (by failing
// it, with `complete` set) once it has both.
struct HeadHandler {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  int depth = 0;
  std::string key;          // the current (or last) top-level key
  bool in_key = false;      // `key` is arriving in parts
  std::string ticket_part;  // a ticket arriving in parts
  std::optional<std::string> ticket;
  std::optional<ReplyType> type;
  bool ticket_not_string = false;

  bool complete = false;

  bool done(boost::system::error_code& ec) {
    if (ticket && type) {
      complete = true;
      ec = json::error::extra_data;  // any error: it only stops the parser
      return false;
    }
    return true;
  }
  // A value begins at depth 1 under `key`.
  bool top_value(std::optional<ReplyType> kind_of_value, boost::system::error_code& ec) {
    if (depth != 1) return true;
    if (key == "ticket") ticket_not_string = true;
    if (kind_of_value) type = kind_of_value;
    return done(ec);
  }

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code& ec) {
    std::optional<ReplyType> t;
    if (depth == 1 && key == "rep") t = ReplyType::kRep;
    if (depth == 1 && key == "err") t = ReplyType::kErr;
    if (depth == 1 && !top_value(t, ec)) return false;
    ++depth;
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) {
    --depth;
    return true;
  }
  bool on_array_begin(boost::system::error_code& ec) {
    if (!top_value(std::nullopt, ec)) return false;
    ++depth;
    return true;
  }
  bool on_array_end(std::size_t, boost::system::error_code&) {
    --depth;
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, boost::system::error_code&) {
    if (depth != 1) return true;
    if (!in_key) key.clear();
    in_key = true;
    key.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, boost::system::error_code&) {
    if (depth != 1) return true;
    if (!in_key) key.clear();
    in_key = false;
    key.append(s.data(), s.size());
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, boost::system::error_code&) {
    if (depth == 1 && key == "ticket") ticket_part.append(s.data(), s.size());
    return true;
  }
  bool on_string(json::string_view s, std::size_t, boost::system::error_code& ec) {
    if (depth == 1 && key == "ticket") {
      ticket_part.append(s.data(), s.size());
      ticket = std::move(ticket_part);
      return done(ec);
    }
    return end_scalar(ec);
  }
  bool on_number_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_int64(int64_t, json::string_view, boost::system::error_code& ec) {
    return end_scalar(ec);
  }
  bool on_uint64(uint64_t, json::string_view, boost::system::error_code& ec) {
    return end_scalar(ec);
  }
  bool on_double(double, json::string_view, boost::system::error_code& ec) {
    return end_scalar(ec);
  }
  bool on_bool(bool, boost::system::error_code& ec) {
    if (depth == 1 && key == "ack") {
      type = ReplyType::kAck;
      return done(ec);
    }
    return end_scalar(ec);
  }
  bool on_null(boost::system::error_code& ec) { return end_scalar(ec); }
  bool on_comment_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(json::string_view, boost::system::error_code&) { return true; }

  // A scalar other than the ones looked for.
  bool end_scalar(boost::system::error_code& ec) {
    if (depth == 1 && key == "ticket") ticket_not_string = true;
    return done(ec);
  }
};

Error malformed(std::string why) {
  return make_error(ErrorKind::kMalformed, "bus reply: " + std::move(why));
}

}  // namespace

// ---- Writing ----------------------------------------------------------------

std::string format_ack(std::string_view ticket) {
  std::string out;
  out.reserve(24 + ticket.size());
  open_reply(out, ticket, "ack");
  out += "true}";
  return out;
}

std::string format_err(std::string_view ticket, std::string_view message) {
  std::string out;
  out.reserve(48 + ticket.size() + message.size());
  open_reply(out, ticket, "err");
  out += "{\"errorMessage\":";
  append_json_string(out, message);
  out += "}}";
  return out;
}

std::string format_rep(std::string_view ticket, const DeviceResponse& response) {
  std::string out;
  out.reserve(96 + ticket.size());
  open_reply(out, ticket, "rep");
  append_device_response(out, response);
  out += "}}";
  return out;
}

std::string format_notification(std::string_view ticket, const DeviceResponse& response,
                                const NotificationSource& source) {
  std::string out;
  out.reserve(160 + ticket.size() + source.endpoint.size());
  open_reply(out, ticket, "rep");
  append_device_response(out, response);
  out += ",\"notification\":true,\"ep\":";
  append_json_string(out, source.endpoint);
  out += ",\"path\":\"";
  source.path.append_to(out);  // digits and slashes: nothing to escape
  out += "\"}}";
  return out;
}

std::string format_cancelled(std::string_view ticket, std::string_view observe_ticket,
                             std::optional<uint8_t> coap_code, std::string_view warning) {
  std::string out;
  open_reply(out, ticket, "rep");
  out += "{\"code\":\"CANCELLED\",\"observeTicket\":";
  append_json_string(out, observe_ticket);
  append_key(out, "coapCode");
  if (coap_code) {
    append_json_string(out, lwm2m::coap_code_string(*coap_code));
  } else {
    out += "null";
  }
  if (!warning.empty()) {
    append_key(out, "warning");
    append_json_string(out, warning);
  }
  out += "}}";
  return out;
}

std::string format_sec_info(std::string_view ticket, std::string_view code,
                            const store::SecurityInfo* info) {
  std::string out;
  open_reply(out, ticket, "rep");
  out += "{\"code\":";
  append_json_string(out, code);
  if (info != nullptr) {
    append_key(out, "secInfo");
    out += json::serialize(store::to_public_json(*info));
  }
  out += "}}";
  return out;
}

// ---- Reading ----------------------------------------------------------------

Result<Reply> parse_reply(std::string_view message) {
  boost::system::error_code ec;
  json::value v = json::parse(message, ec);
  if (ec || !v.is_object()) return malformed("not a JSON object");
  json::object& o = v.get_object();
  const json::value* t = o.if_contains("ticket");
  if (t == nullptr || !t->is_string()) return malformed("\"ticket\" must be a string");
  Reply r;
  r.ticket = std::string(t->get_string());
  if (json::value* rep = o.if_contains("rep"); rep && rep->is_object()) {
    r.type = ReplyType::kRep;
    r.body = std::move(rep->get_object());
  } else if (json::value* err = o.if_contains("err"); err && err->is_object()) {
    r.type = ReplyType::kErr;
    r.body = std::move(err->get_object());
  } else if (const json::value* ack = o.if_contains("ack"); ack && ack->is_bool()) {
    r.type = ReplyType::kAck;
  } else {
    return malformed("needs \"ack\", \"rep\" or \"err\"");
  }
  return r;
}

Result<ReplyHead> parse_reply_head(std::string_view message) {
  json::basic_parser<HeadHandler> parser{json::parse_options{}};
  boost::system::error_code ec;
  parser.write_some(false, message.data(), message.size(), ec);
  HeadHandler& h = parser.handler();
  if (h.complete) return ReplyHead{std::move(*h.ticket), *h.type};
  if (ec) return malformed("not a JSON object: " + ec.message());
  if (h.ticket_not_string || !h.ticket) return malformed("\"ticket\" must be a string");
  return malformed("needs \"ack\", \"rep\" or \"err\"");
}

Result<DeviceResponse> device_response_from_json(const json::object& rep, const lwm2m::Path& path,
                                                 const lwm2m::ModelRegistry& models) {
  auto field = [](std::string_view name, std::string_view why) {
    return malformed("rep \"" + std::string(name) + "\" " + std::string(why));
  };
  auto text = [&](std::string_view name, std::string& out) -> bool {
    const json::value* v = rep.if_contains(name);
    if (v == nullptr) return true;
    if (!v->is_string()) return false;
    out = std::string(v->get_string());
    return true;
  };
  DeviceResponse r;
  std::string code;
  if (!text("coapCode", code) || code.size() != 4 || code[1] != '.' || code[0] < '0' ||
      code[0] > '7' || code[2] < '0' || code[2] > '3' || code[3] < '0' || code[3] > '9')
    return field("coapCode", "must be a code like \"2.05\"");
  r.code = lwm2m::coap_code(code[0] - '0', (code[2] - '0') * 10 + (code[3] - '0'));
  if (!text("errorMessage", r.error_message)) return field("errorMessage", "is not a string");
  if (!text("location", r.location)) return field("location", "is not a string");
  if (const json::value* links = rep.if_contains("links")) {
    auto parsed = store::links_from_json(*links);
    if (!parsed) return field("links", parsed.error().message);
    r.links = std::move(*parsed);
  }
  if (const json::value* content = rep.if_contains("content")) {
    std::string format_name;
    if (!text("contentFormat", format_name)) return field("contentFormat", "is not a string");
    r.content_format = lwm2m::parse_content_format(format_name);
    if (!r.content_format) return field("contentFormat", "names no content format");
    auto node = node_from_json(*content, path, models);
    if (!node) return field("content", node.error().message);
    r.content = std::move(*node);
  }
  if (const json::value* observe = rep.if_contains("observe")) {
    if (!observe->is_bool()) return field("observe", "is not true or false");
    r.observe = observe->get_bool();
    if (!text("token", r.token_hex)) return field("token", "is not a string");
  }
  return r;
}

}  // namespace fogm2m::bus
