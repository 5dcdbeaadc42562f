// Raw latency samples of one run: latency/<point>-<rep>.u32 in the output
// directory, each sample a little-endian uint32 of microseconds, in the order
// the load generator recorded them (nothing else in the file).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "lwm2m/result.h"

namespace fogm2m::results {

// "latency/<point_index>-<repetition>.u32": the name a record's latency_file holds.
std::string latency_file_name(uint32_t point_index, uint32_t repetition);

// Writes the samples under `output_dir` (creating latency/), replacing an
// older file of the same run; returns the relative name. kIo on failure.
Result<std::string> write_latency_samples(const std::string& output_dir, uint32_t point_index,
                                          uint32_t repetition,
                                          std::span<const uint32_t> samples_us);

// Reads a sample file back. kIo when it cannot be read, kMalformed when its
// size is not a multiple of 4.
Result<std::vector<uint32_t>> read_latency_samples(const std::string& path);

}  // namespace fogm2m::results
