// LwM2M CBOR (content-format 11544, application/vnd.oma.lwm2m+cbor; LwM2M
// 1.2 TS-Core 7.4.7): the data tree as nested CBOR maps keyed by path
// components, values as plain CBOR items.
//
//   {3: {0: {0: "Open Mobile Alliance", 6: {0: 1, 1: 5}, 9: 95}}}
//
// A key is one path component (an unsigned integer) or several at once (an
// array of unsigned integers: {[3, 0]: {9: 95}} and {[3, 0, 9]: 95} say the
// same as {3: {0: {9: 95}}}). Keys always start at the object id, whatever
// the request path. A value is a nested map (the path goes on) or the value
// of the resource or resource instance the path names:
//   Integer          CBOR integer
//   Unsigned Integer CBOR unsigned integer
//   Float            CBOR float (half, single or double)
//   Boolean          CBOR true/false
//   String, Corelnk  text string
//   Opaque           byte string
//   Time             tag 1 (epoch seconds) on an integer
//   Objlnk           text string "3:0"
//
// Encoding writes nested maps with one component per key, from the object
// down, keys ascending, definite lengths (preferred serialization, cbor.h),
// integers as CBOR integers, floats in the shortest exact width, Time
// always tagged. A node without leaves (an empty object, instance or
// multiple resource) is the empty map 0xa0.
//
// Decoding accepts any well-formed CBOR (indefinite lengths, any float
// width, array keys, keys in any order, several keys reaching the same
// subtree: {[3, 0, 9]: 95, [3, 0]: {1: "x"}}) and types values by the
// model; without one a CBOR integer is an Integer (Unsigned Integer above
// INT64_MAX), a float a Float, tag 1 a Time, text a String, bytes Opaque.
// Integer, Unsigned Integer and Time resources take any integral number;
// Time also a tag-1 integer; a number may also be a decimal fraction (tag
// 4 of 64-bit integers). Errors (never exceptions) for: CBOR that is not
// well-formed (the message names the byte offset), a document that is not a
// map, keys that are not ids (or an empty array, or an id above 65534),
// paths deeper than a resource instance, a value above resource level or
// outside the request path, two values for one path, null (Write-Composite's
// deletion, which this codec does not carry; kUnsupported), other tags,
// non-finite floats, a CBOR type that does not fit the model, object links
// that do not parse.
//
// Composite operations do not use this format here (SenML JSON and SenML
// CBOR carry them, codec.h).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "lwm2m/model.h"
#include "lwm2m/node.h"
#include "lwm2m/path.h"
#include "lwm2m/result.h"

namespace fogm2m::lwm2m::lwm2m_cbor {

// The LwM2M CBOR bytes of `node` at `path`. kInvalidArgument when the node
// does not belong at `path`, a value is none or a non-finite float, or a
// string is not UTF-8.
Result<std::vector<uint8_t>> encode(const Path& path, const Node& node);

// The node at `path` that `payload` holds. kUnsupported for the root path.
Result<Node> decode(const Path& path, std::span<const uint8_t> payload,
                    const ModelRegistry& models);

}  // namespace fogm2m::lwm2m::lwm2m_cbor
