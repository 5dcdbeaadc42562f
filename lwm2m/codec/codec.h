// Content-format codecs: one entry point for every format LwM2M 1.1 carries,
// and LwM2M 1.2's LwM2M CBOR.
//
// encode() writes a Node found at a Path; decode() reads a payload sent for
// a Path back into a Node whose kind follows the path's depth (object ->
// Object, /o/i -> ObjectInstance, /o/i/r -> Resource, /o/i/r/ri ->
// ResourceInstance). Untyped formats (TLV, text, opaque) are typed with the
// object models; a resource without a model decodes as Opaque (TLV) or String
// (text). Malformed input returns an Error naming the format and the offset or
// element at fault; decoders never throw and never read out of bounds.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "lwm2m/content_format.h"
#include "lwm2m/model.h"
#include "lwm2m/node.h"
#include "lwm2m/path.h"
#include "lwm2m/result.h"

namespace fogm2m::lwm2m {

using Bytes = std::vector<uint8_t>;

Result<Bytes> encode(ContentFormat format, const Path& path, const Node& node);

Result<Node> decode(ContentFormat format, const Path& path, std::span<const uint8_t> payload,
                    const ModelRegistry& models);

// True when `format` can carry a node at `path` (text and opaque carry only
// single values: a single-instance resource or a resource instance).
bool can_encode(ContentFormat format, const Path& path);

// ---- Composite operations (TS-Core 6.3.x, 6.4.x) ------------------------------
//
// Read-, Write- and Observe-Composite travel in SenML JSON or SenML CBOR
// only (senml_json.h, senml_cbor.h say how); every other format is
// kUnsupported here.

// True for the formats a composite operation can travel in.
bool carries_composite(ContentFormat format);
// The body of a Read-Composite or Observe-Composite request: `paths` as
// records with only a name.
Result<Bytes> encode_paths(ContentFormat format, std::span<const Path> paths);
Result<std::vector<Path>> decode_paths(ContentFormat format, std::span<const uint8_t> payload);
// The values of several nodes in one pack: a Read-Composite answer, its
// notifications, a Write-Composite request.
Result<Bytes> encode_composite(ContentFormat format, std::span<const PathNode> nodes);
// The nodes a pack holds at `paths` (a path nothing lies under is left out).
Result<std::vector<PathNode>> decode_composite(ContentFormat format, std::span<const Path> paths,
                                               std::span<const uint8_t> payload,
                                               const ModelRegistry& models);
// The resources a Write-Composite pack writes, one /o/i/r node each.
Result<std::vector<PathNode>> decode_composite_resources(ContentFormat format,
                                                         std::span<const uint8_t> payload,
                                                         const ModelRegistry& models);

}  // namespace fogm2m::lwm2m
