// The bus writes JSON text directly (bus/json_text.h, append_node_json).
// These tests hold it to the bytes the boost::json DOM produces for the same
// data, over every value type, awkward strings and numbers, and every node
// kind.
#include "bus/json_text.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "bus/node_json.h"

namespace fogm2m::bus {
namespace {

using namespace fogm2m::lwm2m;
namespace json = boost::json;

// Every byte that needs escaping, quotes, backslashes, DEL, UTF-8 and a
// byte sequence that is not UTF-8.
std::vector<std::string> awkward_strings() {
  std::string controls;
  for (int c = 0; c < 0x20; ++c) controls.push_back(static_cast<char>(c));
  return {"",
          "plain",
          "q\"uo\"te",
          "back\\slash",
          "/slash/",
          controls,
          "\x7f",
          "caf\xc3\xa9 \xe2\x82\xac",
          "\xff\xfe not utf-8",
          std::string("nul\0inside", 10),
          "</3/0>;rt=\"x\""};
}

std::vector<double> awkward_doubles() {
  return {0.0,
          -0.0,
          1.5,
          -2.25,
          0.1,
          1e300,
          -1e-300,
          5e-324,
          123456789.123,
          9007199254740993.0,
          std::numeric_limits<double>::max(),
          std::numeric_limits<double>::quiet_NaN(),
          std::numeric_limits<double>::infinity(),
          -std::numeric_limits<double>::infinity()};
}

std::vector<Value> every_value() {
  std::vector<Value> values{Value{},
                            Value{int64_t{0}},
                            Value{int64_t{-5}},
                            Value{std::numeric_limits<int64_t>::min()},
                            Value{std::numeric_limits<int64_t>::max()},
                            Value{uint64_t{7}},
                            Value{std::numeric_limits<uint64_t>::max()},
                            Value{true},
                            Value{false},
                            Value{Opaque{}},
                            Value{Opaque{0, 0x7f, 0xff}},
                            Value{Time{0}},
                            Value{Time{-1}},
                            Value{Time{1700000000}},
                            Value{ObjectLink{3, 1}},
                            Value{ObjectLink{65535, 65535}},
                            Value{CoreLink{"</3/0>"}}};
  for (const auto& s : awkward_strings()) values.emplace_back(s);
  for (double d : awkward_doubles()) values.emplace_back(d);
  return values;
}

std::string direct(const Node& node) {
  std::string out = "prefix:";  // appends, never overwrites
  append_node_json(out, node);
  return out.substr(7);
}

TEST(JsonText, StringsAndNumbersAsBoostJsonWritesThem) {
  for (const auto& s : awkward_strings()) {
    std::string out;
    append_json_string(out, s);
    EXPECT_EQ(out, json::serialize(json::value(json::string(s))));
    // And it parses back to the same bytes (boost::json rejects the
    // invalid UTF-8 one, whichever way it was written).
    boost::system::error_code ec;
    const json::value back = json::parse(out, ec);
    if (!ec) {
      EXPECT_EQ(back.as_string(), json::string(s));
    }
  }
  for (double d : awkward_doubles()) {
    std::string out;
    append_json_number(out, d);
    EXPECT_EQ(out, std::isfinite(d) ? json::serialize(json::value(d)) : "null") << d;
  }
  for (int64_t v : {int64_t{0}, int64_t{-1}, std::numeric_limits<int64_t>::min(),
                    std::numeric_limits<int64_t>::max()}) {
    std::string out;
    append_json_number(out, v);
    EXPECT_EQ(out, json::serialize(json::value(v)));
  }
  std::string out;
  append_json_number(out, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(out, json::serialize(json::value(std::numeric_limits<uint64_t>::max())));
}

TEST(JsonText, EveryNodeKindMatchesTheDomByteForByte) {
  std::vector<Node> nodes;
  uint16_t id = 0;
  std::vector<Resource> resources;
  for (const Value& v : every_value()) {
    nodes.push_back(Resource::single(id, v));
    nodes.push_back(ResourceInstance{id, v});
    resources.push_back(Resource::single(id, v));
    ++id;
  }
  // Multiple-instance resources: empty, sorted, mixed types, and lists that
  // are not sorted or repeat an id (the DOM keeps one key per id).
  resources.push_back(Resource::multi(1000, {}));
  resources.push_back(
      Resource::multi(1001, {{0, int64_t{3800}}, {1, int64_t{5000}}, {7, int64_t{1}}}));
  resources.push_back(Resource::multi(1002, {{0, 1.5}, {1, std::string("x\"y")}, {2, true}}));
  resources.push_back(Resource::multi(1003, {{5, int64_t{1}}, {2, int64_t{2}}, {9, int64_t{3}}}));
  resources.push_back(
      Resource::multi(1004, {{1, int64_t{1}}, {2, int64_t{2}}, {1, int64_t{3}}, {2, 4.5}}));
  for (size_t i = resources.size() - 5; i < resources.size(); ++i) nodes.push_back(resources[i]);
  ObjectInstance big{4, resources};
  nodes.push_back(big);
  nodes.push_back(ObjectInstance{0, {}});
  nodes.push_back(Object{3313, {ObjectInstance{0, {Resource::single(5702, 1.25)}}, big}});
  nodes.push_back(Object{3, {}});

  for (const Node& node : nodes) {
    const std::string expected = json::serialize(node_to_json(node));
    EXPECT_EQ(direct(node), expected);
  }
}

}  // namespace
}  // namespace fogm2m::bus
