#include "lwm2m/codec/opaque.h"

#include "lwm2m/codec/common.h"

namespace fogm2m::lwm2m::opaque {

namespace {

using codec_detail::format_error;

constexpr std::string_view kFormat = "OPAQUE";

}  // namespace

Result<std::vector<uint8_t>> encode(const Path& path, const Node& node) {
  if (Status s = codec_detail::validate_node(kFormat, path, node); !s) return s.error();
  auto value = codec_detail::single_value(kFormat, path, node);
  if (!value) return value.error();
  const Opaque* bytes = (*value)->get_if<Opaque>();
  if (bytes == nullptr)
    return format_error(ErrorKind::kTypeMismatch, kFormat,
                        path.to_string() + " holds a " + to_string((*value)->type()) +
                            " value; only Opaque values have an opaque representation");
  return *bytes;
}

Result<Node> decode(const Path& path, std::span<const uint8_t> payload,
                    const ModelRegistry& models) {
  if (path.depth() < 3)
    return format_error(ErrorKind::kUnsupported, kFormat,
                        "carries single values only, not " + path.to_string());
  const ResourceModel* model = codec_detail::value_model(models, path);
  if (Status s = codec_detail::check_multiplicity(kFormat, model, path); !s) return s.error();
  if (model != nullptr && model->type != ResourceType::kOpaque)
    return format_error(ErrorKind::kTypeMismatch, kFormat,
                        path.to_string() + " is a " + to_string(model->type) +
                            " resource; only Opaque resources take an opaque payload");
  Value value(Opaque(payload.begin(), payload.end()));
  if (path.is_resource()) return Node{Resource::single(path.resource_id(), std::move(value))};
  return Node{ResourceInstance{path.resource_instance_id(), std::move(value)}};
}

}  // namespace fogm2m::lwm2m::opaque
