// Shared by the codec fuzz targets (tlv_fuzz, senml_json_fuzz,
// senml_cbor_fuzz, lwm2m_json_fuzz, lwm2m_cbor_fuzz): the request paths an
// input can pick and the round-trip check.
//
// Input layout: the first byte picks the request path from kFuzzPaths
// (modulo its size), the rest is the payload (which the SenML formats also
// read as a Send's pack of resources). A payload that decodes must
// re-encode, the encoding must decode again to an equal node, and encoding
// that node must give the same bytes. Any violation aborts.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "lwm2m/codec/codec.h"
#include "tests/lwm2m/codec_test_models.h"

namespace fogm2m::lwm2m::fuzzing {

inline const Path kFuzzPaths[] = {
    Path(3),
    Path(3, 0),
    Path(3, 0, 0),
    Path(3, 0, 6),
    Path(3, 0, 6, 1),
    Path(3, 0, 13),
    Path(1),
    Path(1, 0),
    Path(2),
    Path(2, 0, 2),
    Path(5, 0, 0),
    Path(65, 0),
    Path(66),
    Path(3313, 0),
    Path(3313, 0, 5702),
    Path(testing::kAllTypesObject),
    Path(testing::kAllTypesObject, 0),
    Path(testing::kAllTypesObject, 0, 1),
    Path(testing::kAllTypesObject, 0, 2),
    Path(testing::kAllTypesObject, 0, 3),
    Path(testing::kAllTypesObject, 0, 4),
    Path(testing::kAllTypesObject, 0, 5),
    Path(testing::kAllTypesObject, 0, 6),
    Path(testing::kAllTypesObject, 0, 7),
    Path(testing::kAllTypesObject, 0, 8),
    Path(testing::kAllTypesObject, 0, 9),
    Path(testing::kAllTypesObject, 0, 104),
    Path(testing::kAllTypesObject, 0, 106, 0),
    Path(4242),
    Path(4242, 0),
    Path(4242, 0, 1),
    Path(4242, 0, 1, 2),
};

[[noreturn]] inline void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "codec fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

// Equality that treats two NaNs as equal (TLV floats can be NaN).
inline bool same_value(const Value& a, const Value& b) {
  if (a.is<double>() && b.is<double>()) {
    const double x = a.as<double>();
    const double y = b.as<double>();
    return x == y || (std::isnan(x) && std::isnan(y));
  }
  return a == b;
}

inline bool same_node(const Path& path, const Node& a, const Node& b) {
  if (a.index() != b.index()) return false;
  const auto fa = flatten(path, a);
  const auto fb = flatten(path, b);
  if (fa.size() != fb.size()) return false;
  for (size_t k = 0; k < fa.size(); ++k)
    if (fa[k].path != fb[k].path || !same_value(fa[k].value, fb[k].value)) return false;
  return true;
}

inline int run_one(ContentFormat format, const uint8_t* data, size_t size) {
  static const ModelRegistry models = testing::codec_test_models();
  if (size == 0) return 0;
  const Path& path = kFuzzPaths[data[0] % std::size(kFuzzPaths)];
  const std::span<const uint8_t> payload(data + 1, size - 1);

  // The same payload as a pack of resources, as a device's Send (POST /dp)
  // or a Write-Composite brings it: read without crashing, errors explained.
  if (carries_composite(format)) {
    auto pack = decode_composite_resources(format, payload, models);
    if (!pack.ok() && pack.error().message.empty())
      fail("empty error message", "decode_composite_resources");
  }

  auto first = decode(format, path, payload, models);
  if (!first.ok()) {
    if (first.error().message.empty()) fail("empty error message", path.to_string());
    return 0;
  }
  auto bytes = encode(format, path, *first);
  if (!bytes.ok()) fail("a decoded node does not encode", bytes.error().message);
  auto second = decode(format, path, *bytes, models);
  if (!second.ok())
    fail("an encoding does not decode",
         second.error().message + "\n" + std::string(bytes->begin(), bytes->end()));
  if (!same_node(path, *first, *second))
    fail("the round trip changed the node", std::string(bytes->begin(), bytes->end()));
  auto again = encode(format, path, *second);
  if (!again.ok() || *again != *bytes) fail("the encoding is not stable", path.to_string());
  return 0;
}

}  // namespace fogm2m::lwm2m::fuzzing
