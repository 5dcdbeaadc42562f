#include "lwm2m/codec/base64.h"

namespace fogm2m::lwm2m::base64 {

namespace {

constexpr char kStandardChars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrlChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// The 6-bit value of `c` in `alphabet`, or -1.
int sextet(char c, Alphabet alphabet) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (alphabet == Alphabet::kStandard) {
    if (c == '+') return 62;
    if (c == '/') return 63;
  } else {
    if (c == '-') return 62;
    if (c == '_') return 63;
  }
  return -1;
}

Error bad(const std::string& why) {
  return make_error(ErrorKind::kMalformed, "base64: " + why);
}

}  // namespace

std::string encode(std::span<const uint8_t> data, Alphabet alphabet, bool pad) {
  const char* chars = alphabet == Alphabet::kStandard ? kStandardChars : kUrlChars;
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    out.push_back(chars[(v >> 18) & 63]);
    out.push_back(chars[(v >> 12) & 63]);
    out.push_back(chars[(v >> 6) & 63]);
    out.push_back(chars[v & 63]);
  }
  const size_t rest = data.size() - i;
  if (rest == 1) {
    const uint32_t v = uint32_t{data[i]} << 16;
    out.push_back(chars[(v >> 18) & 63]);
    out.push_back(chars[(v >> 12) & 63]);
    if (pad) out.append("==");
  } else if (rest == 2) {
    const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8);
    out.push_back(chars[(v >> 18) & 63]);
    out.push_back(chars[(v >> 12) & 63]);
    out.push_back(chars[(v >> 6) & 63]);
    if (pad) out.push_back('=');
  }
  return out;
}

Result<Opaque> decode(std::string_view text, Alphabet alphabet, Padding padding) {
  // Split off trailing padding first; '=' anywhere else is an error below.
  size_t body = text.size();
  while (body > 0 && text[body - 1] == '=') --body;
  const size_t pad_count = text.size() - body;

  if (pad_count > 0) {
    if (padding == Padding::kForbidden)
      return bad("padding '=' at offset " + std::to_string(body) + " is not allowed");
    if (pad_count > 2 || text.size() % 4 != 0)
      return bad("padding at offset " + std::to_string(body) + " does not complete the last group");
  } else if (padding == Padding::kRequired && text.size() % 4 != 0) {
    return bad("length " + std::to_string(text.size()) +
               " is not a multiple of 4 (padding required)");
  }
  if (body % 4 == 1) return bad("a last group of one character cannot encode a byte");
  if (pad_count > 0 && (body % 4) + pad_count != 4)
    return bad("padding at offset " + std::to_string(body) + " does not complete the last group");

  Opaque out;
  out.reserve(body / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < body; ++i) {
    const int v = sextet(text[i], alphabet);
    if (v < 0) {
      const auto c = static_cast<unsigned char>(text[i]);
      return bad(c == '=' ? "'=' inside the text at offset " + std::to_string(i)
                          : "invalid character 0x" + std::string(1, "0123456789abcdef"[c >> 4]) +
                                std::string(1, "0123456789abcdef"[c & 15]) + " at offset " +
                                std::to_string(i));
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xFF));
    }
  }
  // Leftover bits (2 or 4) must be zero: anything else is a non-canonical encoding.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
    return bad("non-zero unused bits in the last group");
  return out;
}

}  // namespace fogm2m::lwm2m::base64
