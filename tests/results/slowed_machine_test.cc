// Records measured on a slowed machine: flagged by steal or by a speed
// probe well above the sweep's median; records without host figures never.
#include "results/slowed_machine.h"

#include <gtest/gtest.h>

namespace fogm2m::results {
namespace {

schema::ResultRecord measured(uint32_t point, double probe_us, double steal = 0) {
  schema::ResultRecord r;
  r.set_point_index(point);
  r.mutable_host()->set_speed_probe_us(probe_us);
  r.mutable_host()->set_steal_ratio(steal);
  return r;
}

TEST(SlowedMachine, AProbeWellAboveTheMedianOrStealFlagsARecord) {
  const std::vector<schema::ResultRecord> records = {measured(0, 110), measured(1, 112),
                                                     measured(2, 250), measured(3, 111, 0.08),
                                                     measured(4, 130)};
  EXPECT_EQ(measured_on_slowed_machine(records),
            (std::vector<bool>{false, false, true, true, false}));
  std::string described;
  const auto kept = without_slowed(records, &described);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[2].point_index(), 4u);
  EXPECT_EQ(described,
            "point 2 rep 0 (probe 2.23x, steal 0.0%), point 3 rep 0 (probe 0.99x, steal 8.0%)");
}

TEST(SlowedMachine, RecordsWithoutHostFiguresAreNeverFlagged) {
  const std::vector<schema::ResultRecord> records = {measured(0, 0), measured(1, 0)};
  EXPECT_EQ(measured_on_slowed_machine(records), (std::vector<bool>{false, false}));
  std::string described = "stale";
  EXPECT_EQ(without_slowed(records, &described).size(), 2u);
  EXPECT_EQ(described, "");
}

}  // namespace
}  // namespace fogm2m::results
