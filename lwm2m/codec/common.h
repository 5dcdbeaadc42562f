// Checks and helpers shared by the content-format codecs. Internal to
// lwm2m/codec: the formats' own headers and codec.h are the public surface.
#pragma once

#include <string>
#include <string_view>

#include "lwm2m/model.h"
#include "lwm2m/node.h"
#include "lwm2m/path.h"
#include "lwm2m/result.h"
#include "lwm2m/value.h"

namespace fogm2m::lwm2m::codec_detail {

// An Error whose message starts with the format's name: "TLV: <message>".
Error format_error(ErrorKind kind, std::string_view format, std::string_view message);

// OK when `node` may be encoded at `path`: the path is not the root, the node
// kind follows the path depth (Object at /o ... ResourceInstance at
// /o/i/r/ri), the node's id and its children's ids agree with the path, ids
// are at most Path::kMaxId and strictly ascending among siblings, a single
// resource holds no instances and a multiple one no value. Otherwise a
// kInvalidArgument Error naming `format`.
Status validate_node(std::string_view format, const Path& path, const Node& node);

// The value a single-value format (text, opaque) carries: the value of a
// single resource at /o/i/r or of a resource instance at /o/i/r/ri. Errors
// (kUnsupported) for objects, object instances and multiple resources.
// Assumes validate_node() passed. The pointer refers into `node`.
Result<const Value*> single_value(std::string_view format, const Path& path, const Node& node);

// True when `text` is well-formed UTF-8 (no overlong forms, no surrogates,
// nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text);

// The model of the resource a leaf path (depth >= 3) belongs to, or nullptr.
// Executable resources (type kNone) count as unmodelled: they carry no value,
// so a payload for one is decoded as if no model existed.
const ResourceModel* value_model(const ModelRegistry& models, const Path& leaf);

// OK when the model (may be null) allows a value at `leaf`: a leaf at depth 4
// needs a multiple resource, a leaf at depth 3 a single one. kTypeMismatch
// otherwise.
Status check_multiplicity(std::string_view format, const ResourceModel* model, const Path& leaf);

}  // namespace fogm2m::lwm2m::codec_detail
