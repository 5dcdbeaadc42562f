#include "lwm2m/codec/codec.h"

#include <string>

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
      return path.depth() >= 1;
    default:
      return false;
  }
}

}  // namespace fogm2m::lwm2m
