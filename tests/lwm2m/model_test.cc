// Tests of the object model registry and its built-in OMA definitions.
#include "lwm2m/model.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace fogm2m::lwm2m {
namespace {

const ModelRegistry& builtin() {
  static const ModelRegistry registry = ModelRegistry::builtin();
  return registry;
}

const ResourceModel& res(uint16_t object_id, uint16_t resource_id) {
  const ResourceModel* r = builtin().find_resource(object_id, resource_id);
  if (r == nullptr) {
    ADD_FAILURE() << "no builtin resource " << object_id << "/" << resource_id;
    static const ResourceModel kEmpty;
    return kEmpty;
  }
  return *r;
}

std::vector<uint16_t> resource_ids(uint16_t object_id) {
  std::vector<uint16_t> ids;
  if (const ObjectModel* o = builtin().find(object_id))
    for (const ResourceModel& r : o->resources) ids.push_back(r.id);
  return ids;
}

std::vector<uint16_t> range_ids(uint16_t first, uint16_t last) {
  std::vector<uint16_t> ids;
  for (uint16_t i = first; i <= last; ++i) ids.push_back(i);
  return ids;
}

ResourceModel named_resource(uint16_t id, const char* name) {
  ResourceModel r;
  r.id = id;
  r.name = name;
  return r;
}

// ---- registry operations --------------------------------------------------

TEST(ModelRegistryTest, EmptyRegistryFindsNothing) {
  ModelRegistry registry;
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_EQ(registry.find(3), nullptr);
  EXPECT_EQ(registry.find_resource(3, 0), nullptr);
  EXPECT_EQ(registry.find_resource(Path(3, 0, 0)), nullptr);
  EXPECT_TRUE(registry.object_ids().empty());
}

TEST(ModelRegistryTest, AddSortsResourcesAndReplacesSameId) {
  ModelRegistry registry;
  ObjectModel m;
  m.id = 42;
  m.name = "First";
  m.resources.push_back(named_resource(7, "seven"));
  m.resources.push_back(named_resource(2, "two"));
  registry.add(m);
  ASSERT_NE(registry.find(42), nullptr);
  ASSERT_EQ(registry.find(42)->resources.size(), 2u);
  EXPECT_EQ(registry.find(42)->resources[0].id, 2);
  EXPECT_EQ(registry.find(42)->resource(7)->name, "seven");
  EXPECT_EQ(registry.find(42)->resource(3), nullptr);

  ObjectModel replacement;
  replacement.id = 42;
  replacement.name = "Second";
  registry.add(replacement);
  EXPECT_EQ(registry.size(), 1u);
  EXPECT_EQ(registry.find(42)->name, "Second");
  EXPECT_EQ(registry.find_resource(42, 7), nullptr);
}

TEST(ModelRegistryTest, FindResourceByPathNeedsResourceDepth) {
  const ModelRegistry& r = builtin();
  EXPECT_EQ(r.find_resource(Path(3)), nullptr);
  EXPECT_EQ(r.find_resource(Path(3, 0)), nullptr);
  ASSERT_NE(r.find_resource(Path(3, 0, 13)), nullptr);
  EXPECT_EQ(r.find_resource(Path(3, 0, 13))->name, "Current Time");
  // A resource-instance path points into its resource.
  ASSERT_NE(r.find_resource(Path(3, 0, 7, 1)), nullptr);
  EXPECT_EQ(r.find_resource(Path(3, 0, 7, 1))->name, "Power Source Voltage");
  EXPECT_EQ(r.find_resource(Path(3, 0, 99)), nullptr);
  EXPECT_EQ(r.find_resource(Path(9999, 0, 0)), nullptr);
}

// ---- built-in definitions -------------------------------------------------

TEST(ModelBuiltinTest, HoldsExactlyTheListedObjects) {
  const std::vector<uint16_t> expected = {0, 1, 3, 4, 5, 6, 3303, 3313};
  EXPECT_EQ(builtin().object_ids(), expected);
  EXPECT_EQ(builtin().size(), expected.size());
}

TEST(ModelBuiltinTest, ObjectHeaders) {
  struct Expected {
    uint16_t id;
    const char* name;
    const char* urn;
    const char* version;
    const char* lwm2m_version;
    bool multiple;
    bool mandatory;
  };
  const Expected cases[] = {
      {0, "LWM2M Security", "urn:oma:lwm2m:oma:0:1.1", "1.1", "1.1", true, true},
      {1, "LwM2M Server", "urn:oma:lwm2m:oma:1:1.1", "1.1", "1.1", true, true},
      {3, "Device", "urn:oma:lwm2m:oma:3:1.1", "1.1", "1.1", false, true},
      {4, "Connectivity Monitoring", "urn:oma:lwm2m:oma:4:1.3", "1.3", "1.1", false, false},
      {5, "Firmware Update", "urn:oma:lwm2m:oma:5:1.1", "1.1", "1.1", false, false},
      {6, "Location", "urn:oma:lwm2m:oma:6", "1.0", "1.0", false, false},
      {3303, "Temperature", "urn:oma:lwm2m:ext:3303", "1.0", "1.0", true, false},
      {3313, "Accelerometer", "urn:oma:lwm2m:ext:3313", "1.0", "1.0", true, false},
  };
  for (const Expected& e : cases) {
    SCOPED_TRACE(e.id);
    const ObjectModel* o = builtin().find(e.id);
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(o->id, e.id);
    EXPECT_EQ(o->name, e.name);
    EXPECT_EQ(o->urn, e.urn);
    EXPECT_EQ(o->version, e.version);
    EXPECT_EQ(o->lwm2m_version, e.lwm2m_version);
    EXPECT_EQ(o->multiple, e.multiple);
    EXPECT_EQ(o->mandatory, e.mandatory);
    EXPECT_FALSE(o->description.empty());
  }
}

TEST(ModelBuiltinTest, ResourceIdSetsFollowTheDefinitions) {
  EXPECT_EQ(resource_ids(0), range_ids(0, 17));
  EXPECT_EQ(resource_ids(1), range_ids(0, 23));
  EXPECT_EQ(resource_ids(3), range_ids(0, 22));
  EXPECT_EQ(resource_ids(4), range_ids(0, 13));
  // Firmware Update has no resource 4 (removed in LwM2M 1.0).
  EXPECT_EQ(resource_ids(5), (std::vector<uint16_t>{0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13}));
  EXPECT_EQ(resource_ids(6), range_ids(0, 6));
  EXPECT_EQ(resource_ids(3303), (std::vector<uint16_t>{5601, 5602, 5603, 5604, 5605, 5700, 5701}));
  EXPECT_EQ(resource_ids(3313), (std::vector<uint16_t>{5603, 5604, 5701, 5702, 5703, 5704}));
}

// Invariants every definition must keep: sorted unique ids, names and
// descriptions present, executables untyped, everything else typed.
TEST(ModelBuiltinTest, EveryResourceIsWellFormed) {
  for (uint16_t oid : builtin().object_ids()) {
    const ObjectModel* o = builtin().find(oid);
    ASSERT_NE(o, nullptr);
    for (size_t i = 0; i < o->resources.size(); ++i) {
      const ResourceModel& r = o->resources[i];
      SCOPED_TRACE(std::to_string(oid) + "/" + std::to_string(r.id) + " " + r.name);
      if (i > 0) {
        EXPECT_LT(o->resources[i - 1].id, r.id);
      }
      EXPECT_FALSE(r.name.empty());
      EXPECT_FALSE(r.description.empty());
      EXPECT_EQ(r.operations & ~(kOpRead | kOpWrite | kOpExecute), 0);
      if (r.executable()) {
        EXPECT_EQ(r.operations, kOpExecute);
        EXPECT_EQ(r.type, ResourceType::kNone);
        EXPECT_FALSE(r.multiple);
      } else {
        EXPECT_NE(r.type, ResourceType::kNone);
      }
    }
  }
}

TEST(ModelBuiltinTest, SecurityObjectIsBootstrapOnly) {
  const ObjectModel* o = builtin().find(0);
  ASSERT_NE(o, nullptr);
  for (const ResourceModel& r : o->resources) EXPECT_EQ(r.operations, kOpNone) << r.id;

  EXPECT_EQ(res(0, 0).name, "LWM2M Server URI");
  EXPECT_EQ(res(0, 0).type, ResourceType::kString);
  EXPECT_EQ(res(0, 1).type, ResourceType::kBoolean);
  EXPECT_EQ(res(0, 2).range, "0..4");
  EXPECT_EQ(res(0, 3).name, "Public Key or Identity");
  EXPECT_EQ(res(0, 3).type, ResourceType::kOpaque);
  EXPECT_TRUE(res(0, 3).mandatory);
  EXPECT_EQ(res(0, 5).name, "Secret Key");
  EXPECT_EQ(res(0, 5).type, ResourceType::kOpaque);
  EXPECT_EQ(res(0, 10).name, "Short Server ID");
  EXPECT_EQ(res(0, 10).range, "1..65534");
  EXPECT_FALSE(res(0, 10).mandatory);
  EXPECT_EQ(res(0, 13).type, ResourceType::kUnsignedInteger);
  EXPECT_EQ(res(0, 13).units, "");  // the 1.1.1 DDF's "s" here is an erratum
  EXPECT_TRUE(res(0, 16).multiple);
  EXPECT_EQ(res(0, 17).type, ResourceType::kObjlnk);
}

TEST(ModelBuiltinTest, ServerObjectSpotChecks) {
  EXPECT_EQ(res(1, 0).operations, kOpRead);
  EXPECT_EQ(res(1, 0).type, ResourceType::kInteger);
  EXPECT_TRUE(res(1, 0).mandatory);

  EXPECT_EQ(res(1, 1).name, "Lifetime");
  EXPECT_EQ(res(1, 1).operations, kOpRead | kOpWrite);
  EXPECT_EQ(res(1, 1).type, ResourceType::kInteger);
  EXPECT_EQ(res(1, 1).units, "s");
  EXPECT_TRUE(res(1, 1).mandatory);

  EXPECT_TRUE(res(1, 4).executable());
  EXPECT_FALSE(res(1, 4).mandatory);
  EXPECT_EQ(res(1, 6).type, ResourceType::kBoolean);
  EXPECT_TRUE(res(1, 6).mandatory);
  EXPECT_EQ(res(1, 7).name, "Binding");
  EXPECT_TRUE(res(1, 7).writable());

  EXPECT_EQ(res(1, 8).name, "Registration Update Trigger");
  EXPECT_TRUE(res(1, 8).executable());
  EXPECT_FALSE(res(1, 8).readable());
  EXPECT_FALSE(res(1, 8).writable());
  EXPECT_TRUE(res(1, 8).mandatory);
  EXPECT_EQ(res(1, 8).type, ResourceType::kNone);

  EXPECT_EQ(res(1, 10).type, ResourceType::kObjlnk);
  EXPECT_EQ(res(1, 11).range, "0..255");
  EXPECT_EQ(res(1, 12).type, ResourceType::kTime);
  EXPECT_EQ(res(1, 13).operations, kOpRead);
  EXPECT_EQ(res(1, 14).operations, kOpRead | kOpWrite);
  EXPECT_EQ(res(1, 17).type, ResourceType::kUnsignedInteger);
  EXPECT_EQ(res(1, 23).name, "Mute Send");
  EXPECT_EQ(res(1, 23).type, ResourceType::kBoolean);
  EXPECT_EQ(res(1, 23).operations, kOpRead | kOpWrite);
}

TEST(ModelBuiltinTest, DeviceObjectSpotChecks) {
  EXPECT_EQ(res(3, 0).name, "Manufacturer");
  EXPECT_EQ(res(3, 0).operations, kOpRead);
  EXPECT_EQ(res(3, 4).name, "Reboot");
  EXPECT_TRUE(res(3, 4).executable());
  EXPECT_TRUE(res(3, 4).mandatory);

  EXPECT_EQ(res(3, 6).range, "0..7");
  EXPECT_TRUE(res(3, 6).multiple);

  const ResourceModel& voltage = res(3, 7);
  EXPECT_EQ(voltage.name, "Power Source Voltage");
  EXPECT_TRUE(voltage.multiple);
  EXPECT_EQ(voltage.type, ResourceType::kInteger);
  EXPECT_EQ(voltage.operations, kOpRead);
  EXPECT_FALSE(voltage.mandatory);

  EXPECT_EQ(res(3, 9).units, "%");
  EXPECT_EQ(res(3, 9).range, "0..100");
  EXPECT_TRUE(res(3, 11).multiple);
  EXPECT_TRUE(res(3, 11).mandatory);

  const ResourceModel& time = res(3, 13);
  EXPECT_EQ(time.name, "Current Time");
  EXPECT_EQ(time.type, ResourceType::kTime);
  EXPECT_EQ(time.operations, kOpRead | kOpWrite);
  EXPECT_FALSE(time.multiple);

  EXPECT_EQ(res(3, 16).name, "Supported Binding and Modes");
  EXPECT_TRUE(res(3, 16).mandatory);
  EXPECT_EQ(res(3, 22).name, "ExtDevInfo");
  EXPECT_EQ(res(3, 22).type, ResourceType::kObjlnk);
  EXPECT_TRUE(res(3, 22).multiple);
}

TEST(ModelBuiltinTest, ConnectivityFirmwareLocationSpotChecks) {
  EXPECT_EQ(res(4, 0).name, "Network Bearer");
  EXPECT_EQ(res(4, 0).range, "0..50");
  EXPECT_TRUE(res(4, 1).multiple);
  EXPECT_EQ(res(4, 4).type, ResourceType::kString);
  EXPECT_TRUE(res(4, 4).multiple);
  EXPECT_EQ(res(4, 11).units, "dB");

  EXPECT_EQ(res(5, 0).name, "Package");
  EXPECT_EQ(res(5, 0).operations, kOpWrite);
  EXPECT_EQ(res(5, 0).type, ResourceType::kOpaque);
  EXPECT_TRUE(res(5, 2).executable());
  EXPECT_EQ(res(5, 3).range, "0..3");
  EXPECT_EQ(res(5, 5).range, "0..11");
  EXPECT_EQ(res(5, 13).type, ResourceType::kUnsignedInteger);
  EXPECT_EQ(res(5, 13).units, "s");

  EXPECT_EQ(res(6, 0).name, "Latitude");
  EXPECT_EQ(res(6, 0).type, ResourceType::kFloat);
  EXPECT_EQ(res(6, 0).units, "lat");
  EXPECT_EQ(res(6, 4).type, ResourceType::kOpaque);
  EXPECT_EQ(res(6, 5).type, ResourceType::kTime);
  EXPECT_TRUE(res(6, 5).mandatory);
  EXPECT_EQ(res(6, 6).units, "m/s");
}

TEST(ModelBuiltinTest, IpsoSensorSpotChecks) {
  const ResourceModel& x = res(3313, 5702);
  EXPECT_EQ(x.name, "X Value");
  EXPECT_EQ(x.type, ResourceType::kFloat);
  EXPECT_EQ(x.operations, kOpRead);
  EXPECT_TRUE(x.mandatory);
  EXPECT_FALSE(x.multiple);
  EXPECT_FALSE(res(3313, 5703).mandatory);
  EXPECT_FALSE(res(3313, 5704).mandatory);
  EXPECT_EQ(res(3313, 5701).type, ResourceType::kString);
  EXPECT_EQ(res(3313, 5603).name, "Min Range Value");
  EXPECT_EQ(res(3313, 5604).name, "Max Range Value");

  EXPECT_EQ(res(3303, 5700).name, "Sensor Value");
  EXPECT_TRUE(res(3303, 5700).mandatory);
  EXPECT_TRUE(res(3303, 5605).executable());
}

}  // namespace
}  // namespace fogm2m::lwm2m
