#include "lwm2m/codec/cbor.h"

#include <bit>
#include <cfloat>
#include <cmath>
#include <limits>
#include <optional>

#include "lwm2m/codec/common.h"

namespace fogm2m::lwm2m::cbor {

namespace {

constexpr uint8_t kBreak = 0xff;
constexpr uint8_t kIndefinite = 31;

// ---- Reading -------------------------------------------------------------

// Half precision (RFC 8949 Appendix D) to double; exact for every input.
double half_to_double(uint16_t half) {
  const int exponent = (half >> 10) & 0x1f;
  const int mantissa = half & 0x3ff;
  double value;
  if (exponent == 0)
    value = std::ldexp(mantissa, -24);
  else if (exponent != 31)
    value = std::ldexp(mantissa + 1024, exponent - 25);
  else
    value = mantissa == 0 ? std::numeric_limits<double>::infinity()
                          : std::numeric_limits<double>::quiet_NaN();
  return (half & 0x8000) != 0 ? -value : value;
}

class Parser {
 public:
  Parser(std::span<const uint8_t> data, const Limits& limits) : data_(data), limits_(limits) {}

  Result<Item> document() {
    if (data_.empty()) return error("no data item (empty input)", 0);
    Item item;
    if (Status s = parse_item(item, 1); !s) return s.error();
    if (pos_ != data_.size())
      return error(std::to_string(data_.size() - pos_) + " bytes after the data item", pos_);
    return item;
  }

 private:
  Error error(const std::string& what, size_t offset) const {
    return make_error(ErrorKind::kMalformed, what + " at offset " + std::to_string(offset));
  }

  size_t left() const { return data_.size() - pos_; }

  // The head of the item at pos_: major type, additional information and
  // argument (0 when the length is indefinite). Leaves pos_ after the head.
  struct Head {
    uint8_t major = 0;
    uint8_t info = 0;
    uint64_t argument = 0;
  };
  Result<Head> head() {
    const size_t at = pos_;
    if (left() == 0) return error("the input ends where a data item should start", at);
    const uint8_t initial = data_[pos_++];
    Head h{static_cast<uint8_t>(initial >> 5), static_cast<uint8_t>(initial & 0x1f), 0};
    if (h.info < 24) {
      h.argument = h.info;
      return h;
    }
    if (h.info == kIndefinite) return h;
    if (h.info > 27) return error("reserved additional information " + std::to_string(h.info), at);
    const size_t n = size_t{1} << (h.info - 24);  // 1, 2, 4 or 8 bytes
    if (left() < n)
      return error("the head needs " + std::to_string(n) + " more bytes, " +
                       std::to_string(left()) + " left",
                   at);
    for (size_t k = 0; k < n; ++k) h.argument = (h.argument << 8) | data_[pos_++];
    return h;
  }

  Status count_item(size_t at) {
    if (++items_ > limits_.max_items)
      return error("more than " + std::to_string(limits_.max_items) + " data items", at);
    return {};
  }

  bool at_break() const { return left() > 0 && data_[pos_] == kBreak; }

  // Appends the content of a definite string of `length` bytes at pos_.
  Status string_content(Item& item, uint64_t length, size_t at) {
    if (length > left())
      return error(std::string(to_string(item.type)) + " of " + std::to_string(length) +
                       " bytes runs past the end (" + std::to_string(left()) + " left)",
                   at);
    const auto* begin = data_.data() + pos_;
    const size_t n = static_cast<size_t>(length);
    if (item.type == Type::kText) {
      const std::string_view chunk(reinterpret_cast<const char*>(begin), n);
      if (!codec_detail::is_valid_utf8(chunk)) return error("text string is not UTF-8", at);
      item.text.append(chunk);
    } else {
      item.bytes.insert(item.bytes.end(), begin, begin + n);
    }
    pos_ += n;
    return {};
  }

  Status parse_item(Item& item, size_t depth) {
    const size_t at = pos_;
    if (Status s = count_item(at); !s) return s;
    auto h = head();
    if (!h) return h.error();
    item.offset = at;
    const bool indefinite = h->info == kIndefinite;
    switch (h->major) {
      case 0:
      case 1:
        if (indefinite) return error("an integer cannot have an indefinite length", at);
        item.type = h->major == 0 ? Type::kUnsigned : Type::kNegative;
        item.number = h->argument;
        return {};
      case 2:
      case 3: {
        item.type = h->major == 2 ? Type::kBytes : Type::kText;
        if (!indefinite) return string_content(item, h->argument, at);
        // Chunks, each a definite string of the same major type, up to a break.
        while (!at_break()) {
          if (left() == 0)
            return error(std::string("indefinite-length ") + to_string(item.type) + " has no break",
                         at);
          const size_t chunk_at = pos_;
          auto c = head();
          if (!c) return c.error();
          if (c->major != h->major || c->info == kIndefinite)
            return error(std::string("a chunk of an indefinite-length ") + to_string(item.type) +
                             " is not a definite " + to_string(item.type),
                         chunk_at);
          if (Status s = string_content(item, c->argument, chunk_at); !s) return s;
        }
        ++pos_;  // the break
        return {};
      }
      case 4:
      case 5: {
        item.type = h->major == 4 ? Type::kArray : Type::kMap;
        if (depth > limits_.max_depth)
          return error("nesting deeper than " + std::to_string(limits_.max_depth), at);
        const uint64_t per_entry = h->major == 4 ? 1 : 2;
        if (!indefinite) {
          // Every item takes at least one byte.
          if (h->argument > left() / per_entry)
            return error(std::string(to_string(item.type)) + " of " + std::to_string(h->argument) +
                             (per_entry == 1 ? " items" : " pairs") + " runs past the end (" +
                             std::to_string(left()) + " bytes left)",
                         at);
          // Grown as items arrive, not reserved up front: a nest of large
          // declared counts must not allocate more than the input holds.
          const size_t n = static_cast<size_t>(h->argument * per_entry);
          for (size_t k = 0; k < n; ++k) {
            item.items.emplace_back();
            if (Status s = parse_item(item.items.back(), depth + 1); !s) return s;
          }
          return {};
        }
        while (!at_break()) {
          if (left() == 0)
            return error(std::string("indefinite-length ") + to_string(item.type) + " has no break",
                         at);
          item.items.emplace_back();
          if (Status s = parse_item(item.items.back(), depth + 1); !s) return s;
          if (per_entry == 2) {
            if (at_break()) return error("the map ends after a key", pos_);
            item.items.emplace_back();
            if (Status s = parse_item(item.items.back(), depth + 1); !s) return s;
          }
        }
        ++pos_;  // the break
        return {};
      }
      case 6:
        if (indefinite) return error("a tag cannot have an indefinite length", at);
        if (depth > limits_.max_depth)
          return error("nesting deeper than " + std::to_string(limits_.max_depth), at);
        item.type = Type::kTag;
        item.number = h->argument;
        item.items.resize(1);
        return parse_item(item.items[0], depth + 1);
      default:  // 7
        break;
    }
    switch (h->info) {
      case 20:
        item.type = Type::kFalse;
        return {};
      case 21:
        item.type = Type::kTrue;
        return {};
      case 22:
        item.type = Type::kNull;
        return {};
      case 23:
        item.type = Type::kUndefined;
        return {};
      case 24:
        if (h->argument < 32)
          return error("simple value " + std::to_string(h->argument) + " in two bytes", at);
        item.type = Type::kSimple;
        item.number = h->argument;
        return {};
      case 25:
        item.type = Type::kFloat;
        item.real = half_to_double(static_cast<uint16_t>(h->argument));
        return {};
      case 26:
        item.type = Type::kFloat;
        item.real = std::bit_cast<float>(static_cast<uint32_t>(h->argument));
        return {};
      case 27:
        item.type = Type::kFloat;
        item.real = std::bit_cast<double>(h->argument);
        return {};
      case kIndefinite:
        return error("unexpected break", at);
      default:  // 0..19
        item.type = Type::kSimple;
        item.number = h->argument;
        return {};
    }
  }

  std::span<const uint8_t> data_;
  const Limits& limits_;
  size_t pos_ = 0;
  size_t items_ = 0;
};

// ---- Writing -------------------------------------------------------------

void append_head(std::vector<uint8_t>& out, uint8_t major, uint64_t argument) {
  const auto initial = static_cast<uint8_t>(major << 5);
  if (argument < 24) {
    out.push_back(static_cast<uint8_t>(initial | argument));
    return;
  }
  int bytes = 8;
  uint8_t info = 27;
  if (argument <= 0xff) {
    bytes = 1;
    info = 24;
  } else if (argument <= 0xffff) {
    bytes = 2;
    info = 25;
  } else if (argument <= 0xffffffff) {
    bytes = 4;
    info = 26;
  }
  out.push_back(static_cast<uint8_t>(initial | info));
  for (int k = bytes - 1; k >= 0; --k) out.push_back(static_cast<uint8_t>(argument >> (8 * k)));
}

// The half-precision bits of `value` when it holds it exactly; `value` is
// not NaN.
std::optional<uint16_t> exact_half(double value) {
  const uint16_t sign = std::signbit(value) ? 0x8000 : 0;
  const double magnitude = std::fabs(value);
  if (std::isinf(magnitude)) return static_cast<uint16_t>(sign | 0x7c00);
  if (magnitude == 0) return sign;
  if (magnitude > 65504.0) return std::nullopt;
  if (magnitude >= 0x1p-14) {
    // magnitude = m * 2^e with m in [0.5, 1); a normal half holds 11 significant bits.
    int e = 0;
    const double scaled = std::ldexp(std::frexp(magnitude, &e), 11);  // in [1024, 2048)
    if (scaled != std::floor(scaled)) return std::nullopt;
    const int exponent = e + 14;  // 1..30
    return static_cast<uint16_t>(sign | (exponent << 10) | (static_cast<int>(scaled) - 1024));
  }
  const double subnormal = std::ldexp(magnitude, 24);  // multiples of 2^-24
  if (subnormal != std::floor(subnormal)) return std::nullopt;
  return static_cast<uint16_t>(sign | static_cast<int>(subnormal));
}

}  // namespace

const char* to_string(Type type) {
  switch (type) {
    case Type::kUnsigned:
      return "unsigned integer";
    case Type::kNegative:
      return "negative integer";
    case Type::kBytes:
      return "byte string";
    case Type::kText:
      return "text string";
    case Type::kArray:
      return "array";
    case Type::kMap:
      return "map";
    case Type::kTag:
      return "tag";
    case Type::kFalse:
      return "false";
    case Type::kTrue:
      return "true";
    case Type::kNull:
      return "null";
    case Type::kUndefined:
      return "undefined";
    case Type::kSimple:
      return "simple value";
    case Type::kFloat:
      return "float";
  }
  return "?";
}

std::string with_article(Type type) {
  switch (type) {
    case Type::kFalse:
    case Type::kTrue:
    case Type::kNull:
    case Type::kUndefined:
      return to_string(type);
    case Type::kUnsigned:
    case Type::kArray:
      return std::string("an ") + to_string(type);
    default:
      return std::string("a ") + to_string(type);
  }
}

Result<Item> parse(std::span<const uint8_t> data, const Limits& limits) {
  return Parser(data, limits).document();
}

void append_unsigned(std::vector<uint8_t>& out, uint64_t value) {
  append_head(out, 0, value);
}

void append_int(std::vector<uint8_t>& out, int64_t value) {
  if (value >= 0)
    append_head(out, 0, static_cast<uint64_t>(value));
  else  // -1 - value, without overflow for INT64_MIN
    append_head(out, 1, ~static_cast<uint64_t>(value));
}

void append_bytes(std::vector<uint8_t>& out, std::span<const uint8_t> bytes) {
  append_head(out, 2, bytes.size());
  out.insert(out.end(), bytes.begin(), bytes.end());
}

void append_text(std::vector<uint8_t>& out, std::string_view text) {
  append_head(out, 3, text.size());
  out.insert(out.end(), text.begin(), text.end());
}

void append_bool(std::vector<uint8_t>& out, bool value) {
  out.push_back(value ? 0xf5 : 0xf4);
}

void append_null(std::vector<uint8_t>& out) {
  out.push_back(0xf6);
}

void append_float(std::vector<uint8_t>& out, double value) {
  if (std::isnan(value)) {
    out.insert(out.end(), {0xf9, 0x7e, 0x00});
    return;
  }
  if (auto half = exact_half(value)) {
    out.insert(out.end(), {0xf9, static_cast<uint8_t>(*half >> 8), static_cast<uint8_t>(*half)});
    return;
  }
  // The range check keeps the conversion to float defined.
  if (std::fabs(value) <= FLT_MAX) {
    const auto single = static_cast<float>(value);
    if (static_cast<double>(single) == value) {
      out.push_back(0xfa);
      const uint32_t bits = std::bit_cast<uint32_t>(single);
      for (int k = 3; k >= 0; --k) out.push_back(static_cast<uint8_t>(bits >> (8 * k)));
      return;
    }
  }
  out.push_back(0xfb);
  const uint64_t bits = std::bit_cast<uint64_t>(value);
  for (int k = 7; k >= 0; --k) out.push_back(static_cast<uint8_t>(bits >> (8 * k)));
}

void append_array_head(std::vector<uint8_t>& out, uint64_t count) {
  append_head(out, 4, count);
}

void append_map_head(std::vector<uint8_t>& out, uint64_t pairs) {
  append_head(out, 5, pairs);
}

}  // namespace fogm2m::lwm2m::cbor
