// A small CBOR (RFC 8949) reader and writer: the part SenML CBOR (RFC 8428
// section 6) needs. Internal to lwm2m/codec.
//
// Reading: parse() turns one complete data item into a tree of Items. It
// accepts every well-formed item of major types 0-7: integers up to 64 bits,
// byte and text strings, arrays and maps, definite or indefinite in length
// (indefinite strings are joined from their chunks), tags (kept, not
// interpreted), the simple values false/true/null/undefined and others, and
// half, single and double floats (all read as double). It rejects, with a
// kMalformed Error whose message ends "at offset N" (the byte offset of the
// item or byte at fault; no format prefix, callers add theirs):
//   - input that ends inside an item, or bytes after the first item;
//   - reserved additional information (28-30), an indefinite length on an
//     integer, tag or simple value, a break (0xff) outside an indefinite
//     item, a map that ends after a key, a chunk of an indefinite string
//     that is not a definite string of the same major type;
//   - a two-byte simple value below 32 (RFC 8949 3.3), text that is not
//     UTF-8 (each chunk on its own);
//   - nesting deeper than Limits::max_depth, more than Limits::max_items
//     items in all.
// A declared length is checked against the bytes left before anything is
// allocated, so memory stays proportional to the input. The reader never
// reads out of bounds and never throws.
//
// Writing: the append_* functions add one data item (or the head of an
// array or map whose items follow) to a byte vector, in preferred
// serialization (RFC 8949 4.1): definite lengths, the shortest head, and a
// float as the shortest of half, single and double that holds it exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lwm2m/result.h"

namespace fogm2m::lwm2m::cbor {

enum class Type : uint8_t {
  kUnsigned,   // major type 0: the integer `number`
  kNegative,   // major type 1: the integer -1 - `number`
  kBytes,      // major type 2: `bytes`
  kText,       // major type 3: `text`, valid UTF-8
  kArray,      // major type 4: the elements in `items`
  kMap,        // major type 5: `items` holds key, value, key, value ... in input order
  kTag,        // major type 6: tag number `number`, the tagged item in items[0]
  kFalse,      // simple value 20
  kTrue,       // simple value 21
  kNull,       // simple value 22
  kUndefined,  // simple value 23
  kSimple,     // any other simple value: `number`
  kFloat,      // half, single or double precision: `real`
};

// "unsigned integer", "text string", "map", ... for messages.
const char* to_string(Type type);
// The type with its article for messages: "an array", "a map", "null".
std::string with_article(Type type);

struct Item {
  Type type = Type::kNull;
  size_t offset = 0;  // of the item's first byte in the input
  uint64_t number = 0;
  double real = 0;
  std::vector<uint8_t> bytes;
  std::string text;
  std::vector<Item> items;
};

struct Limits {
  size_t max_depth = 16;        // nesting of arrays, maps and tags; the top item is at 1
  size_t max_items = 1u << 20;  // data items in the whole input (map keys and values count)
};

// The one data item that makes up `data`.
Result<Item> parse(std::span<const uint8_t> data, const Limits& limits = {});

// Appenders, one data item each.
void append_unsigned(std::vector<uint8_t>& out, uint64_t value);
void append_int(std::vector<uint8_t>& out, int64_t value);
void append_bytes(std::vector<uint8_t>& out, std::span<const uint8_t> bytes);
// `text` should be UTF-8; it is written as it is.
void append_text(std::vector<uint8_t>& out, std::string_view text);
void append_bool(std::vector<uint8_t>& out, bool value);
void append_null(std::vector<uint8_t>& out);
// Half if the value survives it, else single if it survives that, else
// double; -0.0 and infinities as half; every NaN as the half 0x7e00.
void append_float(std::vector<uint8_t>& out, double value);
// The heads of an array of `count` items and of a map of `pairs` key/value
// pairs; the caller appends the items.
void append_array_head(std::vector<uint8_t>& out, uint64_t count);
void append_map_head(std::vector<uint8_t>& out, uint64_t pairs);

}  // namespace fogm2m::lwm2m::cbor
