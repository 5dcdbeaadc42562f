#include "lwm2m/model.h"

#include <algorithm>

namespace fogm2m::lwm2m {

const ResourceModel* ObjectModel::resource(uint16_t rid) const {
  auto it = std::lower_bound(resources.begin(), resources.end(), rid,
                             [](const ResourceModel& r, uint16_t k) { return r.id < k; });
  return (it != resources.end() && it->id == rid) ? &*it : nullptr;
}

void ModelRegistry::add(ObjectModel model) {
  std::sort(model.resources.begin(), model.resources.end(),
            [](const ResourceModel& a, const ResourceModel& b) { return a.id < b.id; });
  const uint16_t id = model.id;
  models_.insert_or_assign(id, std::move(model));
}

const ObjectModel* ModelRegistry::find(uint16_t object_id) const {
  auto it = models_.find(object_id);
  return it == models_.end() ? nullptr : &it->second;
}

const ResourceModel* ModelRegistry::find_resource(uint16_t object_id, uint16_t resource_id) const {
  const ObjectModel* o = find(object_id);
  return o ? o->resource(resource_id) : nullptr;
}

const ResourceModel* ModelRegistry::find_resource(const Path& path) const {
  if (path.depth() < 3) return nullptr;
  return find_resource(path.object_id(), path.resource_id());
}

std::vector<uint16_t> ModelRegistry::object_ids() const {
  std::vector<uint16_t> ids;
  ids.reserve(models_.size());
  for (const auto& [id, _] : models_) ids.push_back(id);
  return ids;
}

}  // namespace fogm2m::lwm2m
