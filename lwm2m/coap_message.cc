#include "lwm2m/coap_message.h"

#include <algorithm>

#include "lwm2m/hex.h"

namespace fogm2m::lwm2m {

namespace {

constexpr size_t kMaxOptionLength = 65535 + 269;

Error bad(size_t offset, const std::string& why) {
  return make_error(ErrorKind::kMalformed, "CoAP at byte " + std::to_string(offset) + ": " + why);
}

// Writes a delta or length as nibble + extension bytes.
void put_extended(uint32_t v, uint8_t& nibble, std::string& ext) {
  if (v < 13) {
    nibble = static_cast<uint8_t>(v);
  } else if (v < 269) {
    nibble = 13;
    ext.push_back(static_cast<char>(v - 13));
  } else {
    nibble = 14;
    const uint32_t e = v - 269;
    ext.push_back(static_cast<char>(e >> 8));
    ext.push_back(static_cast<char>(e & 0xff));
  }
}

size_t extended_size(uint32_t v) {
  return v < 13 ? 0 : v < 269 ? 1 : 2;
}

const char* type_name(CoapType t) {
  switch (t) {
    case CoapType::kCon:
      return "CON";
    case CoapType::kNon:
      return "NON";
    case CoapType::kAck:
      return "ACK";
    case CoapType::kRst:
      return "RST";
  }
  return "?";
}

}  // namespace

void CoapMessage::add_option(uint16_t number, std::string value) {
  auto it = std::upper_bound(options.begin(), options.end(), number,
                             [](uint16_t n, const CoapOption& o) { return n < o.number; });
  options.insert(it, CoapOption{number, std::move(value)});
}

void CoapMessage::add_uint_option(uint16_t number, uint32_t value) {
  std::string bytes;
  for (int shift = 24; shift >= 0; shift -= 8)
    if (!bytes.empty() || (value >> shift) & 0xff)
      bytes.push_back(static_cast<char>((value >> shift) & 0xff));
  add_option(number, std::move(bytes));
}

void CoapMessage::set_uri_path(std::string_view path) {
  remove_option(coap_option::kUriPath);
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const size_t slash = path.find('/');
    add_option(coap_option::kUriPath, std::string(path.substr(0, slash)));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
}

void CoapMessage::add_uri_query(std::string_view query) {
  add_option(coap_option::kUriQuery, std::string(query));
}

void CoapMessage::set_location_path(std::string_view path) {
  remove_option(coap_option::kLocationPath);
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const size_t slash = path.find('/');
    add_option(coap_option::kLocationPath, std::string(path.substr(0, slash)));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
}

void CoapMessage::remove_option(uint16_t number) {
  options.erase(std::remove_if(options.begin(), options.end(),
                               [&](const CoapOption& o) { return o.number == number; }),
                options.end());
}

const CoapOption* CoapMessage::find_option(uint16_t number) const {
  for (const auto& o : options)
    if (o.number == number) return &o;
  return nullptr;
}

std::optional<uint32_t> CoapMessage::uint_option(uint16_t number) const {
  const CoapOption* o = find_option(number);
  if (!o || o->value.size() > 4) return std::nullopt;
  uint32_t v = 0;
  for (unsigned char c : o->value) v = v << 8 | c;
  return v;
}

std::vector<std::string_view> CoapMessage::uri_path_segments() const {
  std::vector<std::string_view> out;
  for (const auto& o : options)
    if (o.number == coap_option::kUriPath) out.emplace_back(o.value);
  return out;
}

std::string CoapMessage::uri_path() const {
  std::string s;
  for (const auto& o : options)
    if (o.number == coap_option::kUriPath) s += "/" + o.value;
  return s.empty() ? "/" : s;
}

std::vector<std::string_view> CoapMessage::uri_queries() const {
  std::vector<std::string_view> out;
  for (const auto& o : options)
    if (o.number == coap_option::kUriQuery) out.emplace_back(o.value);
  return out;
}

std::optional<std::string_view> CoapMessage::query_value(std::string_view name) const {
  for (const auto& o : options) {
    if (o.number != coap_option::kUriQuery) continue;
    std::string_view q = o.value;
    const size_t eq = q.find('=');
    if (q.substr(0, eq) != name) continue;
    return eq == std::string_view::npos ? std::string_view() : q.substr(eq + 1);
  }
  return std::nullopt;
}

std::string CoapMessage::location_path() const {
  std::string s;
  for (const auto& o : options)
    if (o.number == coap_option::kLocationPath) s += "/" + o.value;
  return s;
}

size_t coap_encoded_size(const CoapMessage& m) {
  size_t n = 4 + m.token.size();
  uint16_t last = 0;
  for (const auto& o : m.options) {
    n += 1 + extended_size(o.number - last) + extended_size(static_cast<uint32_t>(o.value.size())) +
         o.value.size();
    last = o.number;
  }
  if (!m.payload.empty()) n += 1 + m.payload.size();
  return n;
}

Result<std::string> encode_coap(const CoapMessage& m) {
  if (m.token.size() > 8)
    return make_error(ErrorKind::kInvalidArgument, "CoAP: token longer than 8 bytes");
  std::string out;
  out.reserve(coap_encoded_size(m));
  out.push_back(static_cast<char>(0x40 | static_cast<uint8_t>(m.type) << 4 | m.token.size()));
  out.push_back(static_cast<char>(m.code));
  out.push_back(static_cast<char>(m.message_id >> 8));
  out.push_back(static_cast<char>(m.message_id & 0xff));
  out += m.token;
  uint16_t last = 0;
  for (const auto& o : m.options) {
    if (o.value.size() > kMaxOptionLength)
      return make_error(ErrorKind::kInvalidArgument,
                        "CoAP: option " + std::to_string(o.number) + " too long");
    uint8_t dn = 0, ln = 0;
    std::string dext, lext;
    put_extended(o.number - last, dn, dext);
    put_extended(static_cast<uint32_t>(o.value.size()), ln, lext);
    out.push_back(static_cast<char>(dn << 4 | ln));
    out += dext;
    out += lext;
    out += o.value;
    last = o.number;
  }
  if (!m.payload.empty()) {
    out.push_back(static_cast<char>(0xff));
    out += m.payload;
  }
  return out;
}

Result<CoapMessage> decode_coap(std::string_view datagram) {
  return decode_coap(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(datagram.data()), datagram.size()));
}

Result<CoapMessage> decode_coap(std::span<const uint8_t> d) {
  if (d.size() < 4) return bad(0, "shorter than the 4-byte header");
  if ((d[0] >> 6) != 1) return bad(0, "version " + std::to_string(d[0] >> 6) + " is not 1");
  CoapMessage m;
  m.type = static_cast<CoapType>((d[0] >> 4) & 3);
  const size_t tkl = d[0] & 0x0f;
  if (tkl > 8) return bad(0, "token length " + std::to_string(tkl) + " is over 8");
  m.code = d[1];
  m.message_id = static_cast<uint16_t>(d[2] << 8 | d[3]);
  if (m.code == 0 && (tkl != 0 || d.size() != 4))
    return bad(4, "an empty message has bytes after the header");
  if (d.size() < 4 + tkl) return bad(4, "truncated token");
  m.token.assign(reinterpret_cast<const char*>(d.data() + 4), tkl);
  size_t pos = 4 + tkl;
  uint32_t number = 0;
  // Reads the extension of a delta/length nibble.
  auto extended = [&](uint32_t nibble, uint32_t& out) -> bool {
    if (nibble < 13) {
      out = nibble;
      return true;
    }
    if (nibble == 13) {
      if (pos >= d.size()) return false;
      out = 13u + d[pos++];
      return true;
    }
    if (pos + 1 >= d.size()) return false;
    out = 269u + (static_cast<uint32_t>(d[pos]) << 8 | d[pos + 1]);
    pos += 2;
    return true;
  };
  while (pos < d.size()) {
    if (d[pos] == 0xff) {
      if (pos + 1 == d.size()) return bad(pos, "payload marker without payload");
      m.payload.assign(reinterpret_cast<const char*>(d.data() + pos + 1), d.size() - pos - 1);
      return m;
    }
    const size_t opt_start = pos;
    const uint32_t dn = d[pos] >> 4, ln = d[pos] & 0x0f;
    ++pos;
    if (dn == 15) return bad(opt_start, "option delta nibble 15");
    if (ln == 15) return bad(opt_start, "option length nibble 15");
    uint32_t delta = 0, len = 0;
    if (!extended(dn, delta)) return bad(opt_start, "truncated option delta");
    if (!extended(ln, len)) return bad(opt_start, "truncated option length");
    number += delta;
    if (number > 65535) return bad(opt_start, "option number over 65535");
    if (pos + len > d.size())
      return bad(opt_start, "option " + std::to_string(number) + " runs past the end");
    m.options.push_back(
        CoapOption{static_cast<uint16_t>(number),
                   std::string(reinterpret_cast<const char*>(d.data() + pos), len)});
    pos += len;
  }
  return m;
}

std::string to_debug_string(const CoapMessage& m) {
  std::string s = type_name(m.type);
  s += " ";
  s += m.is_request() || m.is_empty() ? coap_code_name(m.code) : coap_code_string(m.code);
  s += " mid=" + std::to_string(m.message_id);
  if (!m.token.empty()) s += " tkn=" + to_hex(m.token);
  if (m.has_option(coap_option::kUriPath)) s += " " + m.uri_path();
  bool first = true;
  for (auto q : m.uri_queries()) {
    s += first ? "?" : "&";
    s += q;
    first = false;
  }
  if (auto loc = m.location_path(); !loc.empty()) s += " loc=" + loc;
  if (auto ct = m.content_format()) s += " ct=" + std::to_string(*ct);
  if (auto obs = m.observe()) s += " obs=" + std::to_string(*obs);
  if (!m.payload.empty()) s += " " + std::to_string(m.payload.size()) + "B";
  return s;
}

}  // namespace fogm2m::lwm2m
