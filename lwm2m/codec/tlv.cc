#include "lwm2m/codec/tlv.h"

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>

#include "lwm2m/codec/common.h"

namespace fogm2m::lwm2m::tlv {

namespace {

using codec_detail::format_error;

constexpr std::string_view kFormat = "TLV";
constexpr size_t kMaxLength = 0xFFFFFF;  // 24-bit length field

enum class Type : uint8_t {
  kObjectInstance = 0,
  kResourceInstance = 1,
  kMultipleResource = 2,
  kResource = 3,
};

const char* type_name(Type t) {
  switch (t) {
    case Type::kObjectInstance:
      return "object instance";
    case Type::kResourceInstance:
      return "resource instance";
    case Type::kMultipleResource:
      return "multiple resource";
    case Type::kResource:
      return "resource";
  }
  return "?";
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

void put_be(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int k = bytes - 1; k >= 0; --k) out.push_back(static_cast<uint8_t>(v >> (8 * k)));
}

void put_header(std::vector<uint8_t>& out, Type type, uint16_t id, size_t length) {
  uint8_t b = static_cast<uint8_t>(static_cast<uint8_t>(type) << 6);
  if (id > 0xFF) b |= 0x20;
  int length_bytes = 0;
  if (length < 8) {
    b |= static_cast<uint8_t>(length);
  } else if (length <= 0xFF) {
    b |= 0x08;
    length_bytes = 1;
  } else if (length <= 0xFFFF) {
    b |= 0x10;
    length_bytes = 2;
  } else {
    b |= 0x18;
    length_bytes = 3;
  }
  out.push_back(b);
  put_be(out, id, id > 0xFF ? 2 : 1);
  put_be(out, length, length_bytes);
}

int signed_width(int64_t v) {
  if (v >= INT8_MIN && v <= INT8_MAX) return 1;
  if (v >= INT16_MIN && v <= INT16_MAX) return 2;
  if (v >= INT32_MIN && v <= INT32_MAX) return 4;
  return 8;
}

int unsigned_width(uint64_t v) {
  if (v <= 0xFF) return 1;
  if (v <= 0xFFFF) return 2;
  if (v <= 0xFFFFFFFF) return 4;
  return 8;
}

// True when `d` survives a round trip through float32 unchanged.
bool exact_as_float(double d) {
  if (std::isnan(d)) return false;
  if (!std::isinf(d) && std::fabs(d) > FLT_MAX) return false;  // the cast would be undefined
  return static_cast<double>(static_cast<float>(d)) == d;
}

// The value bytes of `v`, written at `leaf`.
Result<std::vector<uint8_t>> value_bytes(const Value& v, const Path& leaf) {
  std::vector<uint8_t> out;
  switch (v.type()) {
    case ResourceType::kNone:
      return format_error(ErrorKind::kInvalidArgument, kFormat,
                          leaf.to_string() + " has no value (type none)");
    case ResourceType::kString: {
      const auto& s = v.as<std::string>();
      if (!codec_detail::is_valid_utf8(s))
        return format_error(ErrorKind::kInvalidArgument, kFormat,
                            leaf.to_string() + ": string value is not valid UTF-8");
      out.assign(s.begin(), s.end());
      break;
    }
    case ResourceType::kCorelnk: {
      const auto& s = v.as<CoreLink>().text;
      if (!codec_detail::is_valid_utf8(s))
        return format_error(ErrorKind::kInvalidArgument, kFormat,
                            leaf.to_string() + ": core link value is not valid UTF-8");
      out.assign(s.begin(), s.end());
      break;
    }
    case ResourceType::kInteger: {
      const int64_t i = v.as<int64_t>();
      put_be(out, static_cast<uint64_t>(i), signed_width(i));
      break;
    }
    case ResourceType::kTime: {
      const int64_t i = v.as<Time>().seconds;
      put_be(out, static_cast<uint64_t>(i), signed_width(i));
      break;
    }
    case ResourceType::kUnsignedInteger: {
      const uint64_t u = v.as<uint64_t>();
      put_be(out, u, unsigned_width(u));
      break;
    }
    case ResourceType::kFloat: {
      const double d = v.as<double>();
      if (exact_as_float(d))
        put_be(out, std::bit_cast<uint32_t>(static_cast<float>(d)), 4);
      else
        put_be(out, std::bit_cast<uint64_t>(d), 8);
      break;
    }
    case ResourceType::kBoolean:
      out.push_back(v.as<bool>() ? 1 : 0);
      break;
    case ResourceType::kOpaque:
      out = v.as<Opaque>();
      break;
    case ResourceType::kObjlnk: {
      const ObjectLink l = v.as<ObjectLink>();
      put_be(out, l.object_id, 2);
      put_be(out, l.instance_id, 2);
      break;
    }
  }
  return out;
}

Status append_tlv(std::vector<uint8_t>& out, Type type, uint16_t id,
                  const std::vector<uint8_t>& content, const Path& at) {
  if (content.size() > kMaxLength)
    return format_error(ErrorKind::kInvalidArgument, kFormat,
                        at.to_string() + ": " + std::to_string(content.size()) +
                            " bytes exceed the 24-bit TLV length limit");
  put_header(out, type, id, content.size());
  out.insert(out.end(), content.begin(), content.end());
  return {};
}

Status append_value_tlv(std::vector<uint8_t>& out, Type type, uint16_t id, const Value& v,
                        const Path& leaf) {
  auto bytes = value_bytes(v, leaf);
  if (!bytes) return bytes.error();
  return append_tlv(out, type, id, *bytes, leaf);
}

Status append_resource(std::vector<uint8_t>& out, const Resource& r, const Path& rp) {
  if (!r.multiple) return append_value_tlv(out, Type::kResource, r.id, r.value, rp);
  std::vector<uint8_t> content;
  for (const auto& ri : r.instances)
    if (Status s =
            append_value_tlv(content, Type::kResourceInstance, ri.id, ri.value, rp.child(ri.id));
        !s)
      return s;
  return append_tlv(out, Type::kMultipleResource, r.id, content, rp);
}

Status append_resources(std::vector<uint8_t>& out, const ObjectInstance& oi, const Path& ip) {
  for (const auto& r : oi.resources)
    if (Status s = append_resource(out, r, ip.child(r.id)); !s) return s;
  return {};
}

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

struct Tlv {
  Type type;
  uint16_t id;
  size_t offset;        // of the type byte, from the start of the payload
  size_t value_offset;  // of the first value byte
  std::span<const uint8_t> value;
};

Error bad(size_t offset, const std::string& why) {
  return format_error(ErrorKind::kMalformed, kFormat,
                      "offset " + std::to_string(offset) + ": " + why);
}

Error mismatch(size_t offset, const std::string& why) {
  return format_error(ErrorKind::kTypeMismatch, kFormat,
                      "offset " + std::to_string(offset) + ": " + why);
}

// Splits `data` (found at `base` in the payload) into its TLVs, without
// looking into their values.
Result<std::vector<Tlv>> parse_sequence(std::span<const uint8_t> data, size_t base) {
  std::vector<Tlv> out;
  size_t pos = 0;
  while (pos < data.size()) {
    const size_t at = base + pos;
    const uint8_t b = data[pos];
    const size_t id_bytes = (b & 0x20) ? 2 : 1;
    const size_t length_bytes = (b >> 3) & 0x03;
    const size_t header = 1 + id_bytes + length_bytes;
    if (data.size() - pos < header)
      return bad(at, "truncated header: needs " + std::to_string(header) + " bytes, " +
                         std::to_string(data.size() - pos) + " remain");
    uint32_t id = data[pos + 1];
    if (id_bytes == 2) id = (id << 8) | data[pos + 2];
    size_t length = b & 0x07;
    if (length_bytes > 0) {
      length = 0;
      for (size_t k = 0; k < length_bytes; ++k)
        length = (length << 8) | data[pos + 1 + id_bytes + k];
    }
    const size_t remaining = data.size() - pos - header;
    if (length > remaining)
      return bad(at, "length " + std::to_string(length) + " exceeds the " +
                         std::to_string(remaining) + " remaining bytes");
    if (id > Path::kMaxId)
      return bad(at,
                 "identifier " + std::to_string(id) + " exceeds " + std::to_string(Path::kMaxId));
    out.push_back(Tlv{static_cast<Type>(b >> 6), static_cast<uint16_t>(id), at, at + header,
                      data.subspan(pos + header, length)});
    pos += header + length;
  }
  return out;
}

Result<std::vector<Tlv>> children(const Tlv& t) {
  return parse_sequence(t.value, t.value_offset);
}

uint64_t read_be(std::span<const uint8_t> b) {
  uint64_t v = 0;
  for (uint8_t x : b) v = (v << 8) | x;
  return v;
}

// Two's complement of `b.size()` bytes (1, 2, 4 or 8).
int64_t read_signed(std::span<const uint8_t> b) {
  const uint64_t u = read_be(b);
  const int bits = static_cast<int>(b.size()) * 8;
  if (bits == 64) return static_cast<int64_t>(u);
  const uint64_t sign = uint64_t{1} << (bits - 1);
  return static_cast<int64_t>((u ^ sign) - sign);  // sign extension without overflow
}

bool integer_width(size_t n) {
  return n == 1 || n == 2 || n == 4 || n == 8;
}

// The value of the leaf TLV `t` at `leaf`, typed by the model.
Result<Value> decode_value(const Tlv& t, const Path& leaf, const ModelRegistry& models) {
  const ResourceModel* model = codec_detail::value_model(models, leaf);
  const ResourceType type = model ? model->type : ResourceType::kOpaque;
  const auto& b = t.value;
  const std::string where = leaf.to_string() + " (" + to_string(type) + ")";
  switch (type) {
    case ResourceType::kNone:
    case ResourceType::kOpaque:
      return Value(Opaque(b.begin(), b.end()));
    case ResourceType::kString:
    case ResourceType::kCorelnk: {
      std::string s(b.begin(), b.end());
      if (!codec_detail::is_valid_utf8(s)) return bad(t.offset, where + " is not valid UTF-8");
      if (type == ResourceType::kCorelnk) return Value(CoreLink{std::move(s)});
      return Value(std::move(s));
    }
    case ResourceType::kInteger:
    case ResourceType::kTime:
    case ResourceType::kUnsignedInteger: {
      if (!integer_width(b.size()))
        return mismatch(t.offset, where + " has " + std::to_string(b.size()) +
                                      " bytes; an integer has 1, 2, 4 or 8");
      if (type == ResourceType::kUnsignedInteger) return Value(read_be(b));
      const int64_t i = read_signed(b);
      if (type == ResourceType::kTime) return Value(Time{i});
      return Value(i);
    }
    case ResourceType::kFloat:
      if (b.size() == 4)
        return Value(static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(read_be(b)))));
      if (b.size() == 8) return Value(std::bit_cast<double>(read_be(b)));
      return mismatch(t.offset,
                      where + " has " + std::to_string(b.size()) + " bytes; a float has 4 or 8");
    case ResourceType::kBoolean:
      if (b.size() != 1)
        return mismatch(t.offset,
                        where + " has " + std::to_string(b.size()) + " bytes; a boolean has 1");
      if (b[0] > 1)
        return mismatch(t.offset, where + " byte " + std::to_string(b[0]) + " is not 0 or 1");
      return Value(b[0] == 1);
    case ResourceType::kObjlnk:
      if (b.size() != 4)
        return mismatch(
            t.offset, where + " has " + std::to_string(b.size()) + " bytes; an object link has 4");
      return Value(ObjectLink{static_cast<uint16_t>(read_be(b.subspan(0, 2))),
                              static_cast<uint16_t>(read_be(b.subspan(2, 2)))});
  }
  return bad(t.offset, "unknown resource type");
}

// Sorts by id and rejects duplicates; `what` names the children for the error.
template <class Vec>
Status sort_unique(Vec& v, const Path& parent, const char* what) {
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  for (size_t k = 1; k < v.size(); ++k)
    if (v[k - 1].id == v[k].id)
      return format_error(ErrorKind::kMalformed, kFormat,
                          "duplicate " + std::string(what) + " " + std::to_string(v[k].id) +
                              " under " + parent.to_string());
  return {};
}

// Resource instances from a sequence of resource-instance TLVs.
Result<std::vector<ResourceInstance>> decode_instances(const std::vector<Tlv>& tlvs, const Path& rp,
                                                       const ModelRegistry& models) {
  std::vector<ResourceInstance> out;
  out.reserve(tlvs.size());
  for (const Tlv& t : tlvs) {
    if (t.type != Type::kResourceInstance)
      return bad(t.offset, std::string(type_name(t.type)) +
                               " TLV cannot appear inside multiple resource " + rp.to_string());
    auto v = decode_value(t, rp.child(t.id), models);
    if (!v) return v.error();
    out.push_back(ResourceInstance{t.id, std::move(*v)});
  }
  if (Status s = sort_unique(out, rp, "resource instance"); !s) return s.error();
  return out;
}

// A resource from a resource or multiple-resource TLV `t` under instance `ip`.
Result<Resource> decode_resource(const Tlv& t, const Path& ip, const ModelRegistry& models) {
  const Path rp = ip.child(t.id);
  const ResourceModel* model = codec_detail::value_model(models, rp);
  if (t.type == Type::kResource) {
    if (model != nullptr && model->multiple)
      return mismatch(
          t.offset, rp.to_string() + " is a multiple-instance resource but came as a single value");
    auto v = decode_value(t, rp, models);
    if (!v) return v.error();
    return Resource::single(t.id, std::move(*v));
  }
  if (t.type == Type::kMultipleResource) {
    if (model != nullptr && !model->multiple)
      return mismatch(t.offset,
                      rp.to_string() + " is a single-instance resource but came as multiple");
    auto inner = children(t);
    if (!inner) return inner.error();
    auto instances = decode_instances(*inner, rp, models);
    if (!instances) return instances.error();
    return Resource::multi(t.id, std::move(*instances));
  }
  return bad(t.offset, std::string(type_name(t.type)) + " TLV cannot appear in object instance " +
                           ip.to_string());
}

// An object instance `id` from a sequence of resource TLVs.
Result<ObjectInstance> decode_resources(const std::vector<Tlv>& tlvs, const Path& ip,
                                        const ModelRegistry& models) {
  ObjectInstance oi{ip.instance_id(), {}};
  oi.resources.reserve(tlvs.size());
  for (const Tlv& t : tlvs) {
    auto r = decode_resource(t, ip, models);
    if (!r) return r.error();
    oi.resources.push_back(std::move(*r));
  }
  if (Status s = sort_unique(oi.resources, ip, "resource"); !s) return s.error();
  return oi;
}

// The content of the object-instance TLV `t`, which must have id `want`.
Result<std::vector<Tlv>> unwrap_instance(const Tlv& t, uint16_t want) {
  if (t.id != want)
    return bad(t.offset, "object instance " + std::to_string(t.id) + " where instance " +
                             std::to_string(want) + " was asked for");
  return children(t);
}

bool all_of_type(const std::vector<Tlv>& tlvs, std::initializer_list<Type> types) {
  return std::all_of(tlvs.begin(), tlvs.end(), [&](const Tlv& t) {
    return std::find(types.begin(), types.end(), t.type) != types.end();
  });
}

Result<Node> decode_object(const Path& path, const std::vector<Tlv>& top,
                           const ModelRegistry& models) {
  Object o{path.object_id(), {}};
  if (top.empty()) return Node{std::move(o)};
  if (all_of_type(top, {Type::kResource, Type::kMultipleResource})) {
    // A single-instance object sent without its instance wrapper.
    auto oi = decode_resources(top, path.child(0), models);
    if (!oi) return oi.error();
    o.instances.push_back(std::move(*oi));
    return Node{std::move(o)};
  }
  for (const Tlv& t : top) {
    if (t.type != Type::kObjectInstance)
      return bad(t.offset, std::string(type_name(t.type)) + " TLV among the object instances of " +
                               path.to_string());
    auto inner = children(t);
    if (!inner) return inner.error();
    auto oi = decode_resources(*inner, path.child(t.id), models);
    if (!oi) return oi.error();
    o.instances.push_back(std::move(*oi));
  }
  if (Status s = sort_unique(o.instances, path, "object instance"); !s) return s.error();
  return Node{std::move(o)};
}

Result<Node> decode_object_instance(const Path& path, std::vector<Tlv> top,
                                    const ModelRegistry& models) {
  if (top.size() == 1 && top[0].type == Type::kObjectInstance) {
    auto inner = unwrap_instance(top[0], path.instance_id());
    if (!inner) return inner.error();
    top = std::move(*inner);
  }
  auto oi = decode_resources(top, path, models);
  if (!oi) return oi.error();
  return Node{std::move(*oi)};
}

Result<Node> decode_resource_node(const Path& path, std::vector<Tlv> top,
                                  const ModelRegistry& models) {
  if (top.size() == 1 && top[0].type == Type::kObjectInstance) {
    auto inner = unwrap_instance(top[0], path.instance_id());
    if (!inner) return inner.error();
    top = std::move(*inner);
  }
  const ResourceModel* model = codec_detail::value_model(models, path);
  if (top.empty()) {
    if (model != nullptr && model->multiple) return Node{Resource::multi(path.resource_id(), {})};
    return format_error(
        ErrorKind::kMalformed, kFormat,
        "empty payload for " + path.to_string() +
            (model ? ", a single-instance resource" : ", a resource without a model"));
  }
  if (top.size() == 1 &&
      (top[0].type == Type::kResource || top[0].type == Type::kMultipleResource)) {
    if (top[0].id != path.resource_id())
      return bad(top[0].offset, "resource " + std::to_string(top[0].id) + " where " +
                                    path.to_string() + " was asked for");
    auto r = decode_resource(top[0], path.parent(), models);
    if (!r) return r.error();
    return Node{std::move(*r)};
  }
  if (all_of_type(top, {Type::kResourceInstance})) {
    // The values of a multiple resource without the multiple-resource TLV.
    if (model != nullptr && !model->multiple)
      return mismatch(top[0].offset,
                      path.to_string() + " is a single-instance resource but came as instances");
    auto instances = decode_instances(top, path, models);
    if (!instances) return instances.error();
    return Node{Resource::multi(path.resource_id(), std::move(*instances))};
  }
  return bad(top[0].offset, "expected one resource TLV for " + path.to_string() + ", got " +
                                std::to_string(top.size()) + " TLVs");
}

Result<Node> decode_resource_instance(const Path& path, std::vector<Tlv> top,
                                      const ModelRegistry& models) {
  const ResourceModel* model = codec_detail::value_model(models, path);
  if (model != nullptr && !model->multiple)
    return format_error(
        ErrorKind::kTypeMismatch, kFormat,
        path.to_string() + " names an instance of single resource " + path.parent().to_string());
  if (top.size() == 1 && top[0].type == Type::kObjectInstance) {
    auto inner = unwrap_instance(top[0], path.instance_id());
    if (!inner) return inner.error();
    top = std::move(*inner);
  }
  if (top.size() == 1 && top[0].type == Type::kMultipleResource) {
    if (top[0].id != path.resource_id())
      return bad(top[0].offset, "resource " + std::to_string(top[0].id) + " where " +
                                    path.to_string() + " was asked for");
    auto inner = children(top[0]);
    if (!inner) return inner.error();
    top = std::move(*inner);
  }
  if (top.size() != 1 || top[0].type != Type::kResourceInstance)
    return format_error(ErrorKind::kMalformed, kFormat,
                        "expected one resource instance TLV for " + path.to_string());
  if (top[0].id != path.resource_instance_id())
    return bad(top[0].offset, "resource instance " + std::to_string(top[0].id) + " where " +
                                  path.to_string() + " was asked for");
  auto v = decode_value(top[0], path, models);
  if (!v) return v.error();
  return Node{ResourceInstance{top[0].id, std::move(*v)}};
}

}  // namespace

Result<std::vector<uint8_t>> encode(const Path& path, const Node& node) {
  if (Status s = codec_detail::validate_node(kFormat, path, node); !s) return s.error();
  std::vector<uint8_t> out;
  Status s;
  switch (node.index()) {
    case 0:
      for (const auto& oi : std::get<Object>(node).instances) {
        std::vector<uint8_t> content;
        const Path ip = path.child(oi.id);
        if (s = append_resources(content, oi, ip); !s) break;
        if (s = append_tlv(out, Type::kObjectInstance, oi.id, content, ip); !s) break;
      }
      break;
    case 1:
      s = append_resources(out, std::get<ObjectInstance>(node), path);
      break;
    case 2:
      s = append_resource(out, std::get<Resource>(node), path);
      break;
    case 3: {
      const auto& ri = std::get<ResourceInstance>(node);
      s = append_value_tlv(out, Type::kResourceInstance, ri.id, ri.value, path);
      break;
    }
  }
  if (!s) return s.error();
  return out;
}

Result<Node> decode(const Path& path, std::span<const uint8_t> payload,
                    const ModelRegistry& models) {
  if (path.is_root())
    return format_error(ErrorKind::kUnsupported, kFormat,
                        "cannot decode a payload for the root path");
  auto top = parse_sequence(payload, 0);
  if (!top) return top.error();
  switch (path.depth()) {
    case 1:
      return decode_object(path, *top, models);
    case 2:
      return decode_object_instance(path, std::move(*top), models);
    case 3:
      return decode_resource_node(path, std::move(*top), models);
    default:
      return decode_resource_instance(path, std::move(*top), models);
  }
}

}  // namespace fogm2m::lwm2m::tlv
