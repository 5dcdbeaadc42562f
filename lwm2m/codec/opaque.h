// application/octet-stream (content-format 42): the raw bytes of one Opaque
// value (LwM2M 1.1 TS-Core 7.4.2).
//
// Only a single-instance resource (/o/i/r) or a resource instance
// (/o/i/r/ri) of type Opaque can be carried: other value types have no
// opaque representation and are refused, as Leshan does.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "lwm2m/model.h"
#include "lwm2m/node.h"
#include "lwm2m/path.h"
#include "lwm2m/result.h"

namespace fogm2m::lwm2m::opaque {

// The bytes of the Opaque value of `node` at `path`. kUnsupported for objects,
// object instances and multiple resources; kTypeMismatch when the value is not
// Opaque; kInvalidArgument when the node does not belong at `path`.
Result<std::vector<uint8_t>> encode(const Path& path, const Node& node);

// A Resource (depth 3) or ResourceInstance (depth 4) holding `payload` as an
// Opaque value. kTypeMismatch when the model gives the resource another type
// or another multiplicity; resources without a model are accepted.
Result<Node> decode(const Path& path, std::span<const uint8_t> payload,
                    const ModelRegistry& models);

}  // namespace fogm2m::lwm2m::opaque
