// Object models for the codec tests and fuzz targets: subsets of the OMA
// objects the specification's examples use (1 Server, 2 Access Control,
// 3 Device, 5 Firmware Update), IPSO 3313 Accelerometer, objects 65 and 66
// of the LwM2M 1.0 object-link example, and a test object 10240 with one
// single and one multiple resource of every type.
//
// (ModelRegistry::builtin() lives elsewhere; these tests must not depend on it.)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lwm2m/model.h"
#include "lwm2m/node.h"

namespace fogm2m::lwm2m::testing {

// The bytes of a text, as the decoders take them.
inline std::vector<uint8_t> bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

// Resource ids of the all-types object 10240: single resources use the
// ResourceType's number (1 String ... 9 Corelnk), multiple ones 100 + it.
constexpr uint16_t kAllTypesObject = 10240;
constexpr uint16_t kMultipleBase = 100;

inline ResourceModel res(uint16_t id, const char* name, ResourceType type, bool multiple = false,
                         uint8_t ops = kOpRead | kOpWrite) {
  ResourceModel r;
  r.id = id;
  r.name = name;
  r.type = type;
  r.multiple = multiple;
  r.operations = ops;
  return r;
}

inline ObjectModel object(uint16_t id, const char* name, bool multiple,
                          std::vector<ResourceModel> resources) {
  ObjectModel o;
  o.id = id;
  o.name = name;
  o.multiple = multiple;
  o.resources = std::move(resources);
  return o;
}

inline ModelRegistry codec_test_models() {
  using T = ResourceType;
  ModelRegistry m;
  m.add(object(
      1, "LwM2M Server", true,
      {res(0, "Short Server ID", T::kInteger), res(1, "Lifetime", T::kInteger),
       res(2, "Default Minimum Period", T::kInteger), res(3, "Default Maximum Period", T::kInteger),
       res(4, "Disable", T::kNone, false, kOpExecute), res(5, "Disable Timeout", T::kInteger),
       res(6, "Notification Storing", T::kBoolean), res(7, "Binding", T::kString),
       res(8, "Registration Update Trigger", T::kNone, false, kOpExecute)}));
  m.add(object(2, "LwM2M Access Control", true,
               {res(0, "Object ID", T::kInteger), res(1, "Object Instance ID", T::kInteger),
                res(2, "ACL", T::kInteger, true), res(3, "Access Control Owner", T::kInteger)}));
  m.add(object(
      3, "Device", false,
      {res(0, "Manufacturer", T::kString), res(1, "Model Number", T::kString),
       res(2, "Serial Number", T::kString), res(3, "Firmware Version", T::kString),
       res(4, "Reboot", T::kNone, false, kOpExecute),
       res(5, "Factory Reset", T::kNone, false, kOpExecute),
       res(6, "Available Power Sources", T::kInteger, true),
       res(7, "Power Source Voltage", T::kInteger, true),
       res(8, "Power Source Current", T::kInteger, true), res(9, "Battery Level", T::kInteger),
       res(10, "Memory Free", T::kInteger), res(11, "Error Code", T::kInteger, true),
       res(12, "Reset Error Code", T::kNone, false, kOpExecute), res(13, "Current Time", T::kTime),
       res(14, "UTC Offset", T::kString), res(15, "Timezone", T::kString),
       res(16, "Supported Binding and Modes", T::kString),
       res(22, "ExtDevInfo", T::kObjlnk, true)}));
  m.add(object(5, "Firmware Update", false,
               {res(0, "Package", T::kOpaque, false, kOpWrite), res(1, "Package URI", T::kString),
                res(2, "Update", T::kNone, false, kOpExecute), res(3, "State", T::kInteger),
                res(5, "Update Result", T::kInteger)}));
  m.add(object(3313, "Accelerometer", true,
               {res(5603, "Min Range Value", T::kFloat), res(5604, "Max Range Value", T::kFloat),
                res(5701, "Sensor Units", T::kString), res(5702, "X Value", T::kFloat),
                res(5703, "Y Value", T::kFloat), res(5704, "Z Value", T::kFloat)}));
  m.add(object(
      65, "object link tests 65", true,
      {res(0, "res0", T::kObjlnk, true), res(1, "res1", T::kString), res(2, "res2", T::kInteger)}));
  m.add(
      object(66, "object link tests 66", true,
             {res(0, "res0", T::kString), res(1, "res1", T::kString), res(2, "res2", T::kObjlnk)}));

  std::vector<ResourceModel> all;
  const std::pair<T, const char*> types[] = {
      {T::kString, "String"}, {T::kInteger, "Integer"}, {T::kUnsignedInteger, "Unsigned"},
      {T::kFloat, "Float"},   {T::kBoolean, "Boolean"}, {T::kOpaque, "Opaque"},
      {T::kTime, "Time"},     {T::kObjlnk, "Objlnk"},   {T::kCorelnk, "Corelnk"}};
  for (const auto& [type, name] : types) {
    const auto id = static_cast<uint16_t>(type);
    all.push_back(res(id, name, type));
    all.push_back(res(static_cast<uint16_t>(kMultipleBase + id), name, type, true));
  }
  all.push_back(res(50, "Execute", T::kNone, false, kOpExecute));
  m.add(object(kAllTypesObject, "All Types", true, std::move(all)));
  return m;
}

// Instance 0 of the Device object as the specification's examples give it
// (LwM2M 1.0 6.4.3 TLV, 6.4.4 JSON; LwM2M 1.1 7.4.4 SenML JSON).
inline ObjectInstance device_instance() {
  return ObjectInstance{
      0,
      {Resource::single(0, "Open Mobile Alliance"), Resource::single(1, "Lightweight M2M Client"),
       Resource::single(2, "345000123"), Resource::single(3, "1.0"),
       Resource::multi(6, {{0, 1}, {1, 5}}), Resource::multi(7, {{0, 3800}, {1, 5000}}),
       Resource::multi(8, {{0, 125}, {1, 900}}), Resource::single(9, 100), Resource::single(10, 15),
       Resource::multi(11, {{0, 0}}), Resource::single(13, Time{1367491215}),
       Resource::single(14, "+02:00"), Resource::single(16, "U")}};
}

}  // namespace fogm2m::lwm2m::testing
