// The LwM2M data tree: objects hold instances, instances hold resources,
// multiple-instance resources hold resource instances.
//
// A Node is what a Read returns and a Write carries; which alternative it
// holds follows the depth of the request's path (object, object instance,
// resource, resource instance). Children are kept sorted by id.
#pragma once

#include <cstdint>
#include <utility>
#include <variant>
#include <vector>

#include "lwm2m/path.h"
#include "lwm2m/value.h"

namespace fogm2m::lwm2m {

struct ResourceInstance {
  uint16_t id = 0;
  Value value;
  friend bool operator==(const ResourceInstance&, const ResourceInstance&) = default;
};

struct Resource {
  uint16_t id = 0;
  bool multiple = false;                    // a multiple-instance resource
  Value value;                              // when !multiple
  std::vector<ResourceInstance> instances;  // when multiple, sorted by id

  static Resource single(uint16_t id, Value v) { return Resource{id, false, std::move(v), {}}; }
  static Resource multi(uint16_t id, std::vector<ResourceInstance> inst) {
    return Resource{id, true, Value{}, std::move(inst)};
  }
  const ResourceInstance* find(uint16_t instance_id) const;
  friend bool operator==(const Resource&, const Resource&) = default;
};

struct ObjectInstance {
  uint16_t id = 0;
  std::vector<Resource> resources;  // sorted by id
  const Resource* find(uint16_t resource_id) const;
  friend bool operator==(const ObjectInstance&, const ObjectInstance&) = default;
};

struct Object {
  uint16_t id = 0;
  std::vector<ObjectInstance> instances;  // sorted by id
  const ObjectInstance* find(uint16_t instance_id) const;
  friend bool operator==(const Object&, const Object&) = default;
};

using Node = std::variant<Object, ObjectInstance, Resource, ResourceInstance>;

// The path depth a node kind belongs at: Object 1, ObjectInstance 2, Resource 3,
// ResourceInstance 4.
int node_depth(const Node& node);

// One leaf of a tree with its full path, as SenML and LwM2M JSON list them.
struct PathValue {
  Path path;
  Value value;
  friend bool operator==(const PathValue&, const PathValue&) = default;
};

// A node with the path it was found at: what a composite operation (Read-,
// Write- and Observe-Composite, TS-Core 6.3.x, 6.4.x) carries, several at
// once.
struct PathNode {
  Path path;
  Node node;
  friend bool operator==(const PathNode&, const PathNode&) = default;
};

// Flattens `node`, found at `path`, into its leaves in path order.
// An empty multiple-instance resource or object instance yields no leaves.
std::vector<PathValue> flatten(const Path& path, const Node& node);

}  // namespace fogm2m::lwm2m
