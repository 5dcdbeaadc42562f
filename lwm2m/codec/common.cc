#include "lwm2m/codec/common.h"

#include <variant>

namespace fogm2m::lwm2m::codec_detail {

namespace {

Error invalid(std::string_view format, const std::string& message) {
  return format_error(ErrorKind::kInvalidArgument, format, message);
}

// Children ids: each at most kMaxId and strictly ascending.
template <class Vec>
Status check_children(std::string_view format, const Path& parent, const Vec& children,
                      const char* what) {
  for (size_t k = 0; k < children.size(); ++k) {
    if (children[k].id > Path::kMaxId)
      return invalid(format, std::string(what) + " id " + std::to_string(children[k].id) +
                                 " under " + parent.to_string() + " exceeds " +
                                 std::to_string(Path::kMaxId));
    if (k > 0 && children[k - 1].id >= children[k].id)
      return invalid(format, std::string(what) + " ids under " + parent.to_string() +
                                 " are not strictly ascending (" +
                                 std::to_string(children[k - 1].id) + " then " +
                                 std::to_string(children[k].id) + ")");
  }
  return {};
}

Status check_resource(std::string_view format, const Path& path, const Resource& r) {
  if (!r.multiple) {
    if (!r.instances.empty())
      return invalid(format, "single resource " + path.to_string() + " holds resource instances");
    return {};
  }
  if (!r.value.is_none())
    return invalid(format, "multiple resource " + path.to_string() + " holds a single value");
  return check_children(format, path, r.instances, "resource instance");
}

Status check_instance(std::string_view format, const Path& path, const ObjectInstance& oi) {
  if (Status s = check_children(format, path, oi.resources, "resource"); !s) return s;
  for (const auto& r : oi.resources)
    if (Status s = check_resource(format, path.child(r.id), r); !s) return s;
  return {};
}

}  // namespace

Error format_error(ErrorKind kind, std::string_view format, std::string_view message) {
  std::string m;
  m.reserve(format.size() + 2 + message.size());
  m.append(format);
  m.append(": ");
  m.append(message);
  return make_error(kind, std::move(m));
}

Status validate_node(std::string_view format, const Path& path, const Node& node) {
  if (path.is_root())
    return format_error(ErrorKind::kUnsupported, format, "cannot encode a node at the root path");
  if (node_depth(node) != path.depth())
    return invalid(format, "a node of depth " + std::to_string(node_depth(node)) +
                               " cannot be encoded at " + path.to_string());
  for (int level = 0; level < path.depth(); ++level)
    if (path.id(level) > Path::kMaxId)
      return invalid(
          format, "path " + path.to_string() + " has an id above " + std::to_string(Path::kMaxId));
  const uint16_t last = path.id(path.depth() - 1);
  uint16_t node_id = 0;
  std::visit([&](const auto& n) { node_id = n.id; }, node);
  if (node_id != last)
    return invalid(
        format, "node id " + std::to_string(node_id) + " does not match path " + path.to_string());

  switch (node.index()) {
    case 0: {
      const auto& o = std::get<Object>(node);
      if (Status s = check_children(format, path, o.instances, "object instance"); !s) return s;
      for (const auto& oi : o.instances)
        if (Status s = check_instance(format, path.child(oi.id), oi); !s) return s;
      return {};
    }
    case 1:
      return check_instance(format, path, std::get<ObjectInstance>(node));
    case 2:
      return check_resource(format, path, std::get<Resource>(node));
    default:
      return {};
  }
}

Result<const Value*> single_value(std::string_view format, const Path& path, const Node& node) {
  if (const auto* ri = std::get_if<ResourceInstance>(&node)) return &ri->value;
  if (const auto* r = std::get_if<Resource>(&node)) {
    if (!r->multiple) return &r->value;
    return format_error(
        ErrorKind::kUnsupported, format,
        "carries single values only; " + path.to_string() + " is a multiple-instance resource");
  }
  return format_error(
      ErrorKind::kUnsupported, format,
      "carries single values only, not the object or object instance at " + path.to_string());
}

bool is_valid_utf8(std::string_view text) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
      min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
      min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
      min = 0x10000;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

const ResourceModel* value_model(const ModelRegistry& models, const Path& leaf) {
  const ResourceModel* m = models.find_resource(leaf);
  if (m != nullptr && m->type == ResourceType::kNone) return nullptr;
  return m;
}

Status check_multiplicity(std::string_view format, const ResourceModel* model, const Path& leaf) {
  if (model == nullptr) return {};
  if (leaf.depth() == 4 && !model->multiple)
    return format_error(
        ErrorKind::kTypeMismatch, format,
        leaf.to_string() + " names an instance of single resource " + leaf.parent().to_string());
  if (leaf.depth() == 3 && model->multiple)
    return format_error(ErrorKind::kTypeMismatch, format,
                        leaf.to_string() + " is a multiple-instance resource, not a single value");
  return {};
}

}  // namespace fogm2m::lwm2m::codec_detail
