// Device events (Send, sleeping, awake) written and read back, and what a
// reader refuses.
#include "bus/device_event.h"

#include <gtest/gtest.h>

namespace fogm2m::bus {
namespace {

using lwm2m::Path;
using lwm2m::PathNode;
using lwm2m::Resource;
using lwm2m::Value;

const lwm2m::ModelRegistry& models() {
  static const lwm2m::ModelRegistry m = lwm2m::ModelRegistry::builtin();
  return m;
}

TEST(DeviceEventTest, SendRoundTrip) {
  const std::vector<PathNode> nodes{
      {Path(3313, 0, 5702), Resource::single(5702, Value(1.5))},
      {Path(3313, 0, 5703), Resource::single(5703, Value(-2.0))},
  };
  const std::string text =
      format_send_event("dev-\"1\"", 1700000000123, lwm2m::ContentFormat::kSenmlCbor, nodes);
  EXPECT_EQ(text.rfind(R"({"kind":"send","ep":"dev-\"1\"","ts":1700000000123,)", 0), 0u) << text;
  EXPECT_NE(text.find(R"("content":{"/3313/0/5702":{)"), std::string::npos) << text;
  auto event = parse_device_event(text, models());
  ASSERT_TRUE(event) << event.error().message;
  EXPECT_EQ(event->kind, DeviceEventKind::kSend);
  EXPECT_EQ(event->endpoint, "dev-\"1\"");
  EXPECT_EQ(event->time_ms, 1700000000123);
  EXPECT_EQ(event->content_format, lwm2m::ContentFormat::kSenmlCbor);
  EXPECT_EQ(event->content, nodes);
}

TEST(DeviceEventTest, PresenceRoundTrip) {
  for (DeviceEventKind kind : {DeviceEventKind::kSleeping, DeviceEventKind::kAwake}) {
    const std::string text = format_presence_event(kind, "dev-1", 42);
    EXPECT_EQ(text, std::string(R"({"kind":")") + to_string(kind) + R"(","ep":"dev-1","ts":42})");
    auto event = parse_device_event(text, models());
    ASSERT_TRUE(event) << event.error().message;
    EXPECT_EQ(event->kind, kind);
    EXPECT_EQ(event->endpoint, "dev-1");
    EXPECT_EQ(event->time_ms, 42);
    EXPECT_TRUE(event->content.empty());
  }
}

TEST(DeviceEventTest, MalformedEventsNameTheFault) {
  const std::pair<const char*, const char*> cases[] = {
      {"not json", "invalid JSON"},
      {"[]", "not a JSON object"},
      {R"({"ep":"d","ts":1})", "\"kind\""},
      {R"({"kind":"reboot","ep":"d","ts":1})", "unknown kind"},
      {R"({"kind":"awake","ts":1})", "\"ep\""},
      {R"({"kind":"awake","ep":"","ts":1})", "\"ep\""},
      {R"({"kind":"awake","ep":"d","ts":"1"})", "\"ts\""},
      {R"({"kind":"send","ep":"d","ts":1,"content":{}})", "\"contentFormat\""},
      {R"({"kind":"send","ep":"d","ts":1,"contentFormat":"XML","content":{}})", "names no"},
      {R"({"kind":"send","ep":"d","ts":1,"contentFormat":"SENML_JSON"})", "\"content\""},
      {R"({"kind":"send","ep":"d","ts":1,"contentFormat":"SENML_JSON","content":{"/3/0":{}}})",
       "not a resource"},
      {R"({"kind":"send","ep":"d","ts":1,"contentFormat":"SENML_JSON","content":{"/3/0/0":7}})",
       "content /3/0/0"},
  };
  for (const auto& [text, why] : cases) {
    auto event = parse_device_event(text, models());
    ASSERT_FALSE(event) << text;
    EXPECT_EQ(event.error().kind, ErrorKind::kMalformed) << text;
    EXPECT_NE(event.error().message.find(why), std::string::npos)
        << text << " -> " << event.error().message;
  }
}

}  // namespace
}  // namespace fogm2m::bus
