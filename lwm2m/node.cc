#include "lwm2m/node.h"

#include <algorithm>

namespace fogm2m::lwm2m {

namespace {

template <class Vec>
auto find_by_id(const Vec& v, uint16_t id) -> decltype(&v.front()) {
  auto it =
      std::lower_bound(v.begin(), v.end(), id, [](const auto& e, uint16_t k) { return e.id < k; });
  return (it != v.end() && it->id == id) ? &*it : nullptr;
}

void flatten_resource(const Path& instance_path, const Resource& r, std::vector<PathValue>& out) {
  const Path rp = instance_path.child(r.id);
  if (!r.multiple) {
    out.push_back({rp, r.value});
    return;
  }
  for (const auto& ri : r.instances) out.push_back({rp.child(ri.id), ri.value});
}

void flatten_instance(const Path& object_path, const ObjectInstance& oi,
                      std::vector<PathValue>& out) {
  const Path ip = object_path.child(oi.id);
  for (const auto& r : oi.resources) flatten_resource(ip, r, out);
}

}  // namespace

const ResourceInstance* Resource::find(uint16_t instance_id) const {
  return find_by_id(instances, instance_id);
}
const Resource* ObjectInstance::find(uint16_t resource_id) const {
  return find_by_id(resources, resource_id);
}
const ObjectInstance* Object::find(uint16_t instance_id) const {
  return find_by_id(instances, instance_id);
}

int node_depth(const Node& node) {
  return static_cast<int>(node.index()) + 1;
}

std::vector<PathValue> flatten(const Path& path, const Node& node) {
  std::vector<PathValue> out;
  switch (node.index()) {
    case 0: {
      const auto& o = std::get<Object>(node);
      for (const auto& oi : o.instances) flatten_instance(path, oi, out);
      break;
    }
    case 1:
      for (const auto& r : std::get<ObjectInstance>(node).resources) flatten_resource(path, r, out);
      break;
    case 2:
      flatten_resource(path.parent(), std::get<Resource>(node), out);
      break;
    case 3:
      out.push_back({path, std::get<ResourceInstance>(node).value});
      break;
  }
  return out;
}

}  // namespace fogm2m::lwm2m
