// Latency statistics of one measured window, as the result records carry them.
//
// Percentiles use the nearest-rank method: with the n samples sorted
// ascending, percentile p (0 < p <= 100) is the sample at rank
// ceil(p/100 * n) (1-based). The reference study's figure, the "mean below
// the 95th percentile", is the mean of the samples whose value is strictly
// below the p95 value; when no sample is (all of the lowest 95% equal the
// p95 value), it is the p95 value itself.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "schema/result.pb.h"

namespace fogm2m::results {

// The nearest-rank percentile `p` (0 < p <= 100) of `sorted_us` (ascending,
// non-empty), in microseconds.
uint32_t nearest_rank(std::span<const uint32_t> sorted_us, double p);

// The nearest-rank percentile `p` (0 < p <= 100) of `samples_us` (any
// order; partially sorted in place), in milliseconds; 0 without samples.
// For many small sets (a second of a run's timeline).
double percentile_ms(std::vector<uint32_t> samples_us, double p);
// The same of `values` (any order, any unit); 0 when empty.
double percentile_of(std::vector<double> values, double p);

// Mean, mean below p95, p50/p90/p99/p99.9 and max of `samples_us`
// (microseconds, any order), in milliseconds. No samples: all zero.
schema::Latency latency_stats(std::span<const uint32_t> samples_us);

}  // namespace fogm2m::results
