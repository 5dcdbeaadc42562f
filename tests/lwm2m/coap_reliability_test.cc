// The CoAP message layer's rules on their own: jittered first timeouts, the
// doubling retransmission schedule, duplicate detection, RST of malformed
// CONs.
#include "lwm2m/coap_reliability.h"

#include <gtest/gtest.h>

#include <string>

namespace fogm2m::lwm2m {
namespace {

using namespace std::chrono_literals;

TEST(CoapTransmission, FirstTimeoutIsJitteredWithinTheRandomFactor) {
  CoapTransmission t;  // 2 s, factor 1.5
  EXPECT_EQ(t.initial_timeout(0.0), 2000ms);
  EXPECT_EQ(t.initial_timeout(0.5), 2500ms);
  EXPECT_LT(t.initial_timeout(0.999999), 3000ms);
  t.ack_random_factor = 1.0;  // no jitter
  EXPECT_EQ(t.initial_timeout(0.7), 2000ms);
}

TEST(ConRetransmission, DoublesUntilMaxRetransmitThenGivesUp) {
  CoapTransmission t;
  t.ack_timeout = 100ms;
  t.ack_random_factor = 1.0;
  t.max_retransmit = 4;
  ConRetransmission r(t, 0.0);
  CoapClock::duration waited{};
  std::vector<CoapClock::duration> timeouts{r.timeout()};
  waited += r.timeout();
  while (r.next()) {
    timeouts.push_back(r.timeout());
    waited += r.timeout();
  }
  EXPECT_EQ(r.retransmits(), 4u);
  EXPECT_EQ(timeouts, (std::vector<CoapClock::duration>{100ms, 200ms, 400ms, 800ms, 1600ms}));
  // MAX_TRANSMIT_WAIT with these parameters: (2^5 - 1) * ACK_TIMEOUT.
  EXPECT_EQ(waited, 3100ms);
  EXPECT_FALSE(r.next());  // stays given up

  t.max_retransmit = 0;
  EXPECT_FALSE(ConRetransmission(t, 0.0).next());
}

TEST(RecentMessageIds, FindsDuplicatesUntilTheyExpire) {
  const auto t0 = CoapClock::time_point{} + 1h;
  RecentMessageIds<std::string> ids(4);
  ids.remember(7, t0 + 247s) = "answer-7";
  ASSERT_NE(ids.find(7, t0), nullptr);
  EXPECT_EQ(*ids.find(7, t0 + 246s), "answer-7");
  EXPECT_EQ(ids.find(8, t0), nullptr);
  EXPECT_EQ(ids.find(7, t0 + 247s), nullptr);  // expired
  ids.forget_expired(t0 + 247s);
  EXPECT_TRUE(ids.empty());
}

TEST(RecentMessageIds, KeepsTheNewestUpToItsCapacity) {
  const auto later = CoapClock::time_point::max();
  const auto now = CoapClock::time_point{};
  RecentMessageIds<int> ids(3);
  bool evicted = true;
  for (uint16_t mid = 1; mid <= 3; ++mid) {
    ids.remember(mid, later, &evicted) = mid * 10;
    EXPECT_FALSE(evicted);
  }
  ids.remember(4, later, &evicted) = 40;
  EXPECT_TRUE(evicted);
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids.find(1, now), nullptr);
  EXPECT_EQ(*ids.find(4, now), 40);
  EXPECT_EQ(ids.oldest(), 20);
  // Around the ring again, past the point where it wrapped.
  for (uint16_t mid = 5; mid <= 9; ++mid) ids.remember(mid, later) = mid * 10;
  EXPECT_EQ(ids.oldest(), 70);
  EXPECT_EQ(*ids.find(9, now), 90);
  EXPECT_EQ(*ids.find_if([](int v) { return v < 90; }), 80);  // newest first
  ids.pop_oldest();
  ids.pop_oldest();
  ids.pop_oldest();
  EXPECT_TRUE(ids.empty());
  ids.remember(1, later) = 1;  // usable after emptying
  EXPECT_EQ(*ids.find(1, now), 1);
}

TEST(RecentMessageIds, AMatchTellsSharedIdsApart) {
  RecentMessageIds<std::string> ids(8);
  const auto later = CoapClock::time_point::max();
  ids.remember(5, later) = "peer-a";
  ids.remember(5, later) = "peer-b";
  const auto now = CoapClock::time_point{};
  EXPECT_EQ(*ids.find(5, now, [](const std::string& a) { return a == "peer-b"; }), "peer-b");
  EXPECT_EQ(ids.find(5, now, [](const std::string& a) { return a == "peer-c"; }), nullptr);
}

TEST(CoapMessageLayer, EmptyMessagesAndRejectedCons) {
  EXPECT_EQ(empty_coap_message(CoapType::kAck, 0x1234),
            (std::array<uint8_t, 4>{0x60, 0, 0x12, 0x34}));
  EXPECT_EQ(empty_coap_message(CoapType::kRst, 0x00ff),
            (std::array<uint8_t, 4>{0x70, 0, 0x00, 0xff}));
  const uint8_t con[] = {0x40, 0x01, 0xab, 0xcd, 0xff};  // a CON with a bad rest
  EXPECT_EQ(rejectable_con_id(con), 0xabcd);
  const uint8_t non[] = {0x50, 0x01, 0xab, 0xcd};
  EXPECT_EQ(rejectable_con_id(non), std::nullopt);
  const uint8_t version_2[] = {0x80, 0x01, 0xab, 0xcd};
  EXPECT_EQ(rejectable_con_id(version_2), std::nullopt);
  const uint8_t short_header[] = {0x40, 0x01, 0xab};
  EXPECT_EQ(rejectable_con_id(short_header), std::nullopt);
}

}  // namespace
}  // namespace fogm2m::lwm2m
