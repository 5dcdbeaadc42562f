// Which measured records were taken while the whole machine was slowed:
// the hypervisor reported steal above kSlowedStealRatio, or the collector's
// speed probe (schema HostStats) took more than kSlowedProbeFactor times its
// median over the records given. Such a window measures the host, not the
// cluster, and calibration and validation leave it out. Records without host
// figures (simulated ones, or written before HostStats) are never flagged.
// The report (analysis/fogm2m_analysis/records.py) repeats the thresholds;
// tests/analysis/test_report.py holds the two equal.
#pragma once

#include <string>
#include <vector>

#include "schema/result.pb.h"

namespace fogm2m::results {

inline constexpr double kSlowedStealRatio = 0.05;
inline constexpr double kSlowedProbeFactor = 1.25;

// One flag per record, in the order given.
std::vector<bool> measured_on_slowed_machine(const std::vector<schema::ResultRecord>& records);

// The records not measured on a slowed machine; `described` (if given) gets
// describe_slowed() of the others, empty when none was.
std::vector<schema::ResultRecord> without_slowed(const std::vector<schema::ResultRecord>& records,
                                                 std::string* described = nullptr);

// "point 3 rep 1 (probe 1.9x), point 4 rep 0 (steal 8%)": the flagged records, for a log line.
std::string describe_slowed(const std::vector<schema::ResultRecord>& records,
                            const std::vector<bool>& slowed);

}  // namespace fogm2m::results
