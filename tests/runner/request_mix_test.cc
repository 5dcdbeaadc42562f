// The request mix: weights, endpoints and {xyz} expansion, and requests the
// server's own bus parser accepts.
#include "runner/request_mix.h"

#include <gtest/gtest.h>

#include <map>

#include "bus/request.h"

namespace fogm2m::runner {
namespace {

schema::RequestSpec spec(const std::string& kind, const std::string& path, double weight,
                         const std::string& format = "", const std::string& value = "") {
  schema::RequestSpec s;
  s.set_kind(kind);
  s.set_path(path);
  s.set_weight(weight);
  s.set_content_format(format);
  s.set_value(value);
  return s;
}

TEST(RequestMix, RejectsWhatCannotBePicked) {
  EXPECT_FALSE(RequestMix::make({spec("read", "/3/0", 1)}, {}, 1).ok());
  EXPECT_FALSE(RequestMix::make({}, {"a"}, 1).ok());
  EXPECT_FALSE(RequestMix::make({spec("read", "/3/0", 0)}, {"a"}, 1).ok());
}

TEST(RequestMix, WeightsEndpointsAndAxes) {
  auto mix = RequestMix::make({spec("read", "/3313/0/{xyz}", 3), spec("discover", "/3313/0", 1)},
                              {"a", "b", "c", "d"}, 5);
  ASSERT_TRUE(mix.ok());
  std::map<std::string, int> kinds, endpoints, paths;
  const int n = 40000;
  for (int i = 0; i < n; ++i) {
    const bus::Request r = mix->next();
    ++kinds[bus::to_string(r.kind)];
    ++endpoints[r.endpoint];
    ++paths[r.path.to_string()];
  }
  EXPECT_NEAR(kinds["read"] / double(n), 0.75, 0.02);
  ASSERT_EQ(endpoints.size(), 4u);
  for (const auto& [ep, count] : endpoints) EXPECT_NEAR(count / double(n), 0.25, 0.02) << ep;
  ASSERT_EQ(paths.size(), 4u);  // three axes and the discover path
  for (const char* axis : {"/3313/0/5702", "/3313/0/5703", "/3313/0/5704"})
    EXPECT_NEAR(paths[axis] / double(n), 0.25, 0.02) << axis;
}

TEST(RequestMix, SameSeedSameSequence) {
  auto a = RequestMix::make({spec("read", "/3313/0/{xyz}", 1)}, {"a", "b", "c"}, 9);
  auto b = RequestMix::make({spec("read", "/3313/0/{xyz}", 1)}, {"a", "b", "c"}, 9);
  ASSERT_TRUE(a.ok() && b.ok());
  for (int i = 0; i < 100; ++i) {
    const auto x = a->next(), y = b->next();
    EXPECT_EQ(x.endpoint, y.endpoint);
    EXPECT_EQ(x.path, y.path);
  }
}

TEST(RequestMix, RequestsAreWhatTheBusReadsBack) {
  auto mix = RequestMix::make({spec("read", "/3313/0/{xyz}", 1, "TLV")}, {"dev-1"}, 1);
  ASSERT_TRUE(mix.ok());
  bus::Request read = mix->next();
  read.ticket = "t-1";
  auto parsed = bus::parse_request(bus::format_request(read));
  ASSERT_TRUE(parsed.request.ok()) << parsed.request.error().message;
  EXPECT_EQ(parsed.request->endpoint, "dev-1");
  EXPECT_EQ(parsed.request->ticket, "t-1");
  EXPECT_EQ(parsed.request->kind, bus::RequestKind::kRead);
  EXPECT_EQ(parsed.request->content_format, lwm2m::ContentFormat::kTlv);

  auto write = RequestMix::make({spec("write", "/3/0/14", 1, "", "+02:00")}, {"dev-2"}, 1);
  ASSERT_TRUE(write.ok());
  bus::Request w = write->next();
  w.ticket = "t-2";
  auto pw = bus::parse_request(bus::format_request(w));
  ASSERT_TRUE(pw.request.ok()) << pw.request.error().message;
  EXPECT_EQ(pw.request->kind, bus::RequestKind::kWrite);
  EXPECT_EQ(pw.request->node->at("value"), "+02:00");
  EXPECT_EQ(pw.request->node->at("id"), 14);
}

TEST(RequestMix, RefusesWhatTheBusDoesNotKnow) {
  EXPECT_FALSE(RequestMix::make({spec("frobnicate", "/3/0", 1)}, {"a"}, 1).ok());
  EXPECT_FALSE(RequestMix::make({spec("read", "3/0", 1)}, {"a"}, 1).ok());
  EXPECT_FALSE(RequestMix::make({spec("read", "/3/0", 1, "XML")}, {"a"}, 1).ok());
  EXPECT_FALSE(RequestMix::make({spec("write", "/3", 1, "", "x")}, {"a"}, 1).ok());
}

}  // namespace
}  // namespace fogm2m::runner
