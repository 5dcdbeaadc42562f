#include "emulated_clients/name_pattern.h"

#include <charconv>

namespace fogm2m::emulated {

Result<NamePattern> NamePattern::parse(std::string_view pattern, bool allow_endpoint) {
  NamePattern out;
  out.text_ = std::string(pattern);
  auto fail = [&](size_t pos, const std::string& what) {
    return make_error(ErrorKind::kInvalidArgument, "name pattern \"" + std::string(pattern) +
                                                       "\" at " + std::to_string(pos + 1) + ": " +
                                                       what);
  };
  std::string literal;
  auto flush = [&] {
    if (literal.empty()) return;
    out.pieces_.push_back(Piece{Piece::kLiteral, 0, std::move(literal)});
    literal.clear();
  };
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '}') {
      if (i + 1 < pattern.size() && pattern[i + 1] == '}') {
        literal += '}';
        ++i;
        continue;
      }
      return fail(i, "unmatched '}' (write '}}' for a literal brace)");
    }
    if (c != '{') {
      literal += c;
      continue;
    }
    if (i + 1 < pattern.size() && pattern[i + 1] == '{') {
      literal += '{';
      ++i;
      continue;
    }
    const size_t close = pattern.find('}', i);
    if (close == std::string_view::npos) return fail(i, "unterminated placeholder");
    const std::string_view name = pattern.substr(i + 1, close - i - 1);
    flush();
    if (name == "n") {
      out.pieces_.push_back(Piece{Piece::kIndex, 0, {}});
    } else if (name.rfind("n:", 0) == 0) {
      unsigned width = 0;
      const auto digits = name.substr(2);
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), width);
      if (ec != std::errc() || end != digits.data() + digits.size() || width < 1 || width > 20)
        return fail(i, "width of {n:W} must be 1..20, got \"" + std::string(digits) + "\"");
      out.pieces_.push_back(Piece{Piece::kIndex, static_cast<uint8_t>(width), {}});
    } else if (name == "ep") {
      if (!allow_endpoint) return fail(i, "{ep} cannot be used in an endpoint name");
      out.pieces_.push_back(Piece{Piece::kEndpoint, 0, {}});
    } else {
      return fail(i, "unknown placeholder {" + std::string(name) + "} (known: {n}, {n:W}, {ep})");
    }
    i = close;
  }
  flush();
  return out;
}

std::string NamePattern::format(uint64_t n, std::string_view endpoint) const {
  std::string out;
  for (const Piece& p : pieces_) {
    switch (p.kind) {
      case Piece::kLiteral:
        out += p.literal;
        break;
      case Piece::kEndpoint:
        out += endpoint;
        break;
      case Piece::kIndex: {
        const std::string digits = std::to_string(n);
        if (digits.size() < p.width) out.append(p.width - digits.size(), '0');
        out += digits;
        break;
      }
    }
  }
  return out;
}

bool NamePattern::varies() const {
  for (const Piece& p : pieces_)
    if (p.kind != Piece::kLiteral) return true;
  return false;
}

}  // namespace fogm2m::emulated
