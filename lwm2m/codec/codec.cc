#include "lwm2m/codec/codec.h"

#include <string>

#include "lwm2m/codec/lwm2m_cbor.h"
#include "lwm2m/codec/lwm2m_json.h"
#include "lwm2m/codec/opaque.h"
#include "lwm2m/codec/senml_cbor.h"
#include "lwm2m/codec/senml_json.h"
#include "lwm2m/codec/text.h"
#include "lwm2m/codec/tlv.h"

namespace fogm2m::lwm2m {

namespace {

Error unsupported(ContentFormat format) {
  return make_error(ErrorKind::kUnsupported,
                    std::string("content-format ") + to_name(format) + " (" +
                        std::to_string(static_cast<unsigned>(format)) + ") has no codec");
}

}  // namespace

Result<Bytes> encode(ContentFormat format, const Path& path, const Node& node) {
  switch (format) {
    case ContentFormat::kText:
      return text::encode(path, node);
    case ContentFormat::kOpaque:
      return opaque::encode(path, node);
    case ContentFormat::kTlv:
    case ContentFormat::kOldTlv:
      return tlv::encode(path, node);
    case ContentFormat::kLwm2mJson:
    case ContentFormat::kOldJson:
      return lwm2m_json::encode(path, node);
    case ContentFormat::kSenmlJson:
      return senml_json::encode(path, node);
    case ContentFormat::kSenmlCbor:
      return senml_cbor::encode(path, node);
    case ContentFormat::kLwm2mCbor:
      return lwm2m_cbor::encode(path, node);
    default:
      return unsupported(format);
  }
}

Result<Node> decode(ContentFormat format, const Path& path, std::span<const uint8_t> payload,
                    const ModelRegistry& models) {
  switch (format) {
    case ContentFormat::kText:
      return text::decode(path, payload, models);
    case ContentFormat::kOpaque:
      return opaque::decode(path, payload, models);
    case ContentFormat::kTlv:
    case ContentFormat::kOldTlv:
      return tlv::decode(path, payload, models);
    case ContentFormat::kLwm2mJson:
    case ContentFormat::kOldJson:
      return lwm2m_json::decode(path, payload, models);
    case ContentFormat::kSenmlJson:
      return senml_json::decode(path, payload, models);
    case ContentFormat::kSenmlCbor:
      return senml_cbor::decode(path, payload, models);
    case ContentFormat::kLwm2mCbor:
      return lwm2m_cbor::decode(path, payload, models);
    default:
      return unsupported(format);
  }
}

bool can_encode(ContentFormat format, const Path& path) {
  switch (format) {
    case ContentFormat::kText:
    case ContentFormat::kOpaque:
      return path.depth() >= 3;
    case ContentFormat::kTlv:
    case ContentFormat::kOldTlv:
    case ContentFormat::kLwm2mJson:
    case ContentFormat::kOldJson:
    case ContentFormat::kSenmlJson:
    case ContentFormat::kSenmlCbor:
    case ContentFormat::kLwm2mCbor:
      return path.depth() >= 1;
    default:
      return false;
  }
}

// ---- Composite operations ---------------------------------------------------------

namespace {

Error not_composite(ContentFormat format) {
  return make_error(ErrorKind::kUnsupported,
                    std::string("content-format ") + to_name(format) + " (" +
                        std::to_string(static_cast<unsigned>(format)) +
                        ") cannot carry a composite operation (SenML JSON or SenML CBOR can)");
}

}  // namespace

bool carries_composite(ContentFormat format) {
  return format == ContentFormat::kSenmlJson || format == ContentFormat::kSenmlCbor;
}

Result<Bytes> encode_paths(ContentFormat format, std::span<const Path> paths) {
  if (format == ContentFormat::kSenmlJson) return senml_json::encode_paths(paths);
  if (format == ContentFormat::kSenmlCbor) return senml_cbor::encode_paths(paths);
  return not_composite(format);
}

Result<std::vector<Path>> decode_paths(ContentFormat format, std::span<const uint8_t> payload) {
  if (format == ContentFormat::kSenmlJson) return senml_json::decode_paths(payload);
  if (format == ContentFormat::kSenmlCbor) return senml_cbor::decode_paths(payload);
  return not_composite(format);
}

Result<Bytes> encode_composite(ContentFormat format, std::span<const PathNode> nodes) {
  if (format == ContentFormat::kSenmlJson) return senml_json::encode_composite(nodes);
  if (format == ContentFormat::kSenmlCbor) return senml_cbor::encode_composite(nodes);
  return not_composite(format);
}

Result<std::vector<PathNode>> decode_composite(ContentFormat format, std::span<const Path> paths,
                                               std::span<const uint8_t> payload,
                                               const ModelRegistry& models) {
  if (format == ContentFormat::kSenmlJson)
    return senml_json::decode_composite(paths, payload, models);
  if (format == ContentFormat::kSenmlCbor)
    return senml_cbor::decode_composite(paths, payload, models);
  return not_composite(format);
}

Result<std::vector<PathNode>> decode_composite_resources(ContentFormat format,
                                                         std::span<const uint8_t> payload,
                                                         const ModelRegistry& models) {
  if (format == ContentFormat::kSenmlJson)
    return senml_json::decode_composite_resources(payload, models);
  if (format == ContentFormat::kSenmlCbor)
    return senml_cbor::decode_composite_resources(payload, models);
  return not_composite(format);
}

}  // namespace fogm2m::lwm2m
