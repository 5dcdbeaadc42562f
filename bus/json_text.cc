#include "bus/json_text.h"

#include <array>
#include <boost/json/serializer.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <cmath>

namespace fogm2m::bus {

namespace {

// 0: copy as is; else the letter after the backslash ('u': \u00xx).
constexpr auto kEscapes = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 'u';
  t['\b'] = 'b';
  t['\t'] = 't';
  t['\n'] = 'n';
  t['\f'] = 'f';
  t['\r'] = 'r';
  t['"'] = '"';
  t['\\'] = '\\';
  return t;
}();

template <class Int>
void append_integer(std::string& out, Int v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the pending run of plain characters
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const char e = kEscapes[c];
    if (e == 0) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    if (e != 'u') {
      const char pair[2] = {'\\', e};
      out.append(pair, 2);
    } else {
      const char seq[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      out.append(seq, 6);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void append_json_number(std::string& out, int64_t v) {
  append_integer(out, v);
}

void append_json_number(std::string& out, uint64_t v) {
  append_integer(out, v);
}

void append_json_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  // Boost.JSON's own formatter, through its serializer on a scalar value
  // (neither allocates), so the text matches serialize() exactly.
  const boost::json::value scalar(v);
  boost::json::serializer sr;
  sr.reset(&scalar);
  char buf[64];
  while (!sr.done()) {
    const std::string_view piece = sr.read(buf, sizeof buf);
    out.append(piece.data(), piece.size());
  }
}

}  // namespace fogm2m::bus
