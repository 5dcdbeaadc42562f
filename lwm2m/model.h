// Object models: what objects and resources exist, their types, operations
// and multiplicity. Codecs consult them to type untyped payloads (TLV, text);
// servers consult them to validate requests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lwm2m/path.h"
#include "lwm2m/result.h"
#include "lwm2m/value.h"

namespace fogm2m::lwm2m {

// Allowed operations of a resource, as bit flags (DDF: "R", "W", "RW", "E", "").
enum Operations : uint8_t {
  kOpNone = 0,
  kOpRead = 1,
  kOpWrite = 2,
  kOpExecute = 4,
};

struct ResourceModel {
  uint16_t id = 0;
  std::string name;
  uint8_t operations = kOpNone;  // Operations flags
  bool multiple = false;
  bool mandatory = false;
  ResourceType type = ResourceType::kNone;
  std::string range;  // e.g. "0..100", may be empty
  std::string units;  // e.g. "m/s2", may be empty
  std::string description;

  bool readable() const { return operations & kOpRead; }
  bool writable() const { return operations & kOpWrite; }
  bool executable() const { return operations & kOpExecute; }
};

struct ObjectModel {
  uint16_t id = 0;
  std::string name;
  std::string urn;              // "urn:oma:lwm2m:oma:3", may be empty
  std::string version = "1.0";  // object version
  std::string lwm2m_version = "1.0";
  bool multiple = false;  // may have several instances
  bool mandatory = false;
  std::string description;
  std::vector<ResourceModel> resources;  // sorted by id

  // The resource with `id`, or nullptr.
  const ResourceModel* resource(uint16_t id) const;
};

// A set of object models keyed by object id. Not thread-safe for writes;
// concurrent const use is safe.
class ModelRegistry {
 public:
  ModelRegistry() = default;

  // A registry holding the built-in definitions of objects 0 Security,
  // 1 Server, 3 Device, 4 Connectivity Monitoring, 5 Firmware Update,
  // 6 Location, 3303 Temperature and 3313 Accelerometer.
  static ModelRegistry builtin();

  // Adds or replaces the model with the same id.
  void add(ObjectModel model);

  // The model of `object_id`, or nullptr when unknown.
  const ObjectModel* find(uint16_t object_id) const;
  // The model of the resource `path` points into (depth >= 3), or nullptr.
  const ResourceModel* find_resource(const Path& path) const;
  const ResourceModel* find_resource(uint16_t object_id, uint16_t resource_id) const;

  // Ids of all known objects, ascending.
  std::vector<uint16_t> object_ids() const;
  size_t size() const { return models_.size(); }

 private:
  std::map<uint16_t, ObjectModel> models_;
};

// Parses one OMA DDF XML document (the LWM2M.xsd format the OMA registry
// publishes: <LWM2M><Object><ObjectID>... <Resources><Item ID="...">).
// `source_name` is used in error messages, which name it and the element
// at fault, e.g. "3313.xml: Object[0]/Resources/Item[ID=5702]/Type: unknown type \"Flot\"";
// malformed XML gives the parser's line ("3313.xml:24: malformed XML: ...").
Result<std::vector<ObjectModel>> parse_ddf(const std::string& xml, const std::string& source_name);

// Parses one DDF file.
Result<std::vector<ObjectModel>> load_ddf_file(const std::filesystem::path& file);

// Loads every *.xml file of `dir` (not recursive, in name order) into
// `registry`, replacing models with the same id. All or nothing: when any
// file is broken, its error is returned and the registry is left unchanged;
// otherwise returns the number of objects loaded.
Result<size_t> load_ddf_directory(const std::filesystem::path& dir, ModelRegistry& registry);

}  // namespace fogm2m::lwm2m
