// OMA TLV (content-format 11542; the pre-registration number 1542 is the same
// format), OMA-TS-LightweightM2M-V1_0 6.4.3 and V1_1 TS-Core 7.4.3.
//
// Each TLV is a type byte, an 8- or 16-bit identifier, an optional 8/16/24-bit
// length and the value:
//   type bits 7-6  00 object instance, 01 resource instance,
//                  10 multiple resource, 11 resource with value
//   bit 5          identifier is 16 bits (else 8)
//   bits 4-3       length field of 0 (length in bits 2-0), 8, 16 or 24 bits
// Values (big endian):
//   Integer, Time       shortest of 1, 2, 4, 8 bytes, two's complement
//   Unsigned Integer    shortest of 1, 2, 4, 8 bytes, unsigned (LwM2M 1.1)
//   Float               4 bytes when the value is exactly a float32, else 8.
//                       (Leshan always writes 8 bytes; Wakaama writes 4 by
//                       narrowing, which loses precision. Writing 4 only when
//                       lossless keeps the payload small and the value exact.)
//                       Decoding accepts 4 and 8.
//   Boolean             1 byte, 0 or 1
//   Objlnk              4 bytes: object id, instance id (16 bits each)
//   String, Corelnk     UTF-8 bytes;  Opaque  the bytes themselves
//
// Encoding: an Object is a sequence of object-instance TLVs; an
// ObjectInstance a sequence of resource TLVs (no instance wrapper); a single
// Resource one resource TLV; a multiple Resource one multiple-resource TLV
// of resource-instance TLVs; a ResourceInstance one resource-instance TLV.
//
// Decoding is typed by the ModelRegistry; a resource without a model (or an
// executable one) decodes as Opaque. Also accepted on decode, as clients send
// them: for /o, resource TLVs without an instance wrapper (read as instance
// 0); for /o/i, resources wrapped in one object-instance TLV with id i; for
// /o/i/r and /o/i/r/ri, wrappers of the enclosing levels whose ids match the
// path, and for a multiple resource a bare sequence of resource-instance TLVs.
// Duplicate ids among siblings, ids above 65534, a length beyond the end of
// its container, a value length the type does not allow (e.g. a 3-byte
// Integer) or a TLV of a type that does not belong at its level are Errors
// naming the byte offset of the TLV at fault.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "lwm2m/model.h"
#include "lwm2m/node.h"
#include "lwm2m/path.h"
#include "lwm2m/result.h"

namespace fogm2m::lwm2m::tlv {

// The TLV bytes of `node` at `path` (kind following the path's depth).
// kInvalidArgument when the node does not belong at `path`, a value is none or
// a string is not UTF-8, or a TLV would exceed the 24-bit length limit.
Result<std::vector<uint8_t>> encode(const Path& path, const Node& node);

// The node at `path` (Object, ObjectInstance, Resource or ResourceInstance by
// depth) that `payload` holds. kUnsupported for the root path.
Result<Node> decode(const Path& path, std::span<const uint8_t> payload,
                    const ModelRegistry& models);

}  // namespace fogm2m::lwm2m::tlv
