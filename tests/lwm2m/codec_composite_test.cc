// The composite packs of SenML JSON and SenML CBOR (TS-Core 6.3.x, 6.4.x):
// lists of paths, nodes at several paths in one pack, and what the codecs
// refuse of them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lwm2m/codec/codec.h"
#include "lwm2m/codec/senml_json.h"

namespace fogm2m::lwm2m {
namespace {

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string text_of(const Bytes& b) {
  return std::string(b.begin(), b.end());
}

constexpr ContentFormat kBoth[] = {ContentFormat::kSenmlJson, ContentFormat::kSenmlCbor};

TEST(CodecComposite, PathsHaveOnlyNames) {
  const std::vector<Path> paths{Path(3, 0, 9), Path(3313, 0), Path(3, 0, 7, 1), Path(5)};
  auto json = encode_paths(ContentFormat::kSenmlJson, paths);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(text_of(*json), R"([{"n":"/3/0/9"},{"n":"/3313/0"},{"n":"/3/0/7/1"},{"n":"/5"}])");
  for (ContentFormat f : kBoth) {
    SCOPED_TRACE(to_name(f));
    auto encoded = encode_paths(f, paths);
    ASSERT_TRUE(encoded.ok());
    auto back = decode_paths(f, *encoded);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, paths);
    EXPECT_FALSE(encode_paths(f, std::vector<Path>{Path()}).ok());
  }
  // A base name carries forward; a leading '/' may be missing.
  auto based = senml_json::decode_paths(
      bytes_of(R"([{"bn":"/3/0/","n":"9"},{"n":"14"},{"bn":"","n":"3313/0"}])"));
  ASSERT_TRUE(based.ok()) << based.error().message;
  EXPECT_EQ(*based, (std::vector<Path>{Path(3, 0, 9), Path(3, 0, 14), Path(3313, 0)}));
  for (const char* bad : {R"([{"n":"/3/0/9","v":1}])", R"([{"n":"/"}])", R"([{"n":"/3/x"}])",
                          R"([{"n":"/3","foo":1}])", R"({"n":"/3"})", R"([{}])"})
    EXPECT_FALSE(senml_json::decode_paths(bytes_of(bad)).ok()) << bad;
  EXPECT_FALSE(encode_paths(ContentFormat::kTlv, std::vector<Path>{Path(3)}).ok());
  EXPECT_EQ(decode_paths(ContentFormat::kTlv, bytes_of("")).error().kind, ErrorKind::kUnsupported);
}

TEST(CodecComposite, NodesAtSeveralPathsRoundTrip) {
  const ModelRegistry models = ModelRegistry::builtin();
  const std::vector<PathNode> nodes{
      {Path(3, 0, 9), Resource::single(9, int64_t{87})},
      {Path(3313, 0),
       ObjectInstance{0,
                      {Resource::single(5701, std::string("m/s2")), Resource::single(5702, 1.5)}}},
      {Path(3, 0, 7), Resource::multi(7, {{0, int64_t{3800}}, {1, int64_t{5000}}})}};
  auto json = encode_composite(ContentFormat::kSenmlJson, nodes);
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(text_of(*json),
            R"([{"n":"/3/0/9","v":87},{"n":"/3313/0/5701","vs":"m/s2"},)"
            R"({"n":"/3313/0/5702","v":1.5},{"n":"/3/0/7/0","v":3800},{"n":"/3/0/7/1","v":5000}])");
  const std::vector<Path> paths{Path(3, 0, 9), Path(3313, 0), Path(3, 0, 7), Path(3303, 0)};
  for (ContentFormat f : kBoth) {
    SCOPED_TRACE(to_name(f));
    auto encoded = encode_composite(f, nodes);
    ASSERT_TRUE(encoded.ok()) << encoded.error().message;
    auto back = decode_composite(f, paths, *encoded, models);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, nodes);  // nothing at /3303/0: left out
    // A Write-Composite pack, read as the resources it writes.
    auto resources = decode_composite_resources(f, *encoded, models);
    ASSERT_TRUE(resources.ok()) << resources.error().message;
    ASSERT_EQ(resources->size(), 4u);
    EXPECT_EQ((*resources)[0].path, Path(3, 0, 9));
    EXPECT_EQ((*resources)[2].node, Node(Resource::single(5702, 1.5)));
    EXPECT_EQ((*resources)[3].path, Path(3, 0, 7));
    EXPECT_TRUE(std::get<Resource>((*resources)[3].node).multiple);
  }
}

TEST(CodecComposite, OverlappingPathsShareTheirRecords) {
  const ModelRegistry models = ModelRegistry::builtin();
  const ObjectInstance device{
      0, {Resource::single(9, int64_t{87}), Resource::single(15, std::string("UTC"))}};
  const std::vector<PathNode> nodes{{Path(3, 0), device},
                                    {Path(3, 0, 9), Resource::single(9, int64_t{87})}};
  for (ContentFormat f : kBoth) {
    SCOPED_TRACE(to_name(f));
    auto encoded = encode_composite(f, nodes);
    ASSERT_TRUE(encoded.ok());
    const std::vector<Path> paths{Path(3, 0), Path(3, 0, 9)};
    auto back = decode_composite(f, paths, *encoded, models);
    ASSERT_TRUE(back.ok()) << back.error().message;  // /3/0/9 written once, not twice
    EXPECT_EQ(*back, nodes);
  }
}

TEST(CodecComposite, Refusals) {
  const ModelRegistry models = ModelRegistry::builtin();
  const std::vector<Path> asked{Path(3, 0, 9)};
  // A record outside the paths asked for; one without a value.
  EXPECT_FALSE(
      senml_json::decode_composite(asked, bytes_of(R"([{"n":"/3/0/14","vs":"x"}])"), models).ok());
  EXPECT_FALSE(senml_json::decode_composite(asked, bytes_of(R"([{"n":"/3/0/9"}])"), models).ok());
  EXPECT_FALSE(
      senml_json::decode_composite(asked, bytes_of(R"([{"n":"/3/0","v":1}])"), models).ok());
  EXPECT_FALSE(
      senml_json::decode_composite_resources(bytes_of(R"([{"n":"/3/0/9","vs":"x"}])"), models)
          .ok());
  // A node that does not belong at its path; non-SenML formats.
  EXPECT_FALSE(
      encode_composite(ContentFormat::kSenmlJson,
                       std::vector<PathNode>{{Path(3, 0), Resource::single(9, int64_t{1})}})
          .ok());
  EXPECT_EQ(encode_composite(ContentFormat::kTlv, std::vector<PathNode>{}).error().kind,
            ErrorKind::kUnsupported);
  EXPECT_TRUE(carries_composite(ContentFormat::kSenmlCbor));
  EXPECT_FALSE(carries_composite(ContentFormat::kLwm2mJson));
}

}  // namespace
}  // namespace fogm2m::lwm2m
