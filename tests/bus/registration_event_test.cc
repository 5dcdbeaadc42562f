// Registration events: the three kinds carry the record, the update event
// the thesis' regUpdate beside it; channels name the kinds.
#include "bus/registration_event.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "bus/channels.h"

namespace fogm2m::bus {
namespace {

store::Registration sample() {
  store::Registration r;
  r.endpoint = "dev-1";
  r.reg_id = "AbC123xyz0";
  r.lifetime_s = 300;
  r.binding = "UQ";
  r.peer = {"10.0.0.7", 40111};
  r.owner = "node-2";
  return r;
}

TEST(RegistrationEvent, EveryKindCarriesTheRecord) {
  for (auto kind : {RegistrationEventKind::kNew, RegistrationEventKind::kUpdate,
                    RegistrationEventKind::kDelete}) {
    auto back = parse_registration_event(kind, format_registration_event(kind, sample()));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->endpoint, "dev-1");
    EXPECT_EQ(back->owner, "node-2");
    EXPECT_EQ(back->peer, sample().peer);
  }
  EXPECT_EQ(format_registration_event(RegistrationEventKind::kNew, sample()),
            store::to_json_string(sample()));
  const boost::json::value update =
      boost::json::parse(format_registration_event(RegistrationEventKind::kUpdate, sample()));
  EXPECT_EQ(update.at("regUpdate"),
            (boost::json::object{{"regId", "AbC123xyz0"}, {"lt", 300}, {"bnd", "UQ"}}));
  EXPECT_FALSE(
      parse_registration_event(RegistrationEventKind::kUpdate, store::to_json_string(sample()))
          .ok());
  EXPECT_FALSE(parse_registration_event(RegistrationEventKind::kNew, "{nope").ok());
}

TEST(RegistrationEvent, ChannelsNameTheKinds) {
  const Channels channels;
  for (auto kind : {RegistrationEventKind::kNew, RegistrationEventKind::kUpdate,
                    RegistrationEventKind::kDelete})
    EXPECT_EQ(channels.registration_kind(channels.registration(kind)), kind);
  EXPECT_EQ(channels.registration(RegistrationEventKind::kUpdate), "LESHAN_REG_UPD");
  EXPECT_EQ(channels.registration_kind(channels.requests), std::nullopt);
}

}  // namespace
}  // namespace fogm2m::bus
