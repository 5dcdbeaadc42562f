// Reads back the result records of an output directory (records.jsonl), for
// --resume, the simulator's calibration and validation, and tests.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lwm2m/result.h"
#include "schema/result.pb.h"

namespace fogm2m::results {

// Every record of `output_dir`/records.jsonl, in file order; blank lines are
// skipped. No file: an empty list (nothing done yet). A malformed line:
// kMalformed "<dir>/records.jsonl:<line>: <what>". Unknown JSON fields are
// ignored (records of a newer version stay readable).
Result<std::vector<schema::ResultRecord>> read_records(const std::string& output_dir);

// The (point_index, repetition) pairs of `records` that completed, i.e.
// have no error; failed runs are run again on --resume. (The same type as
// scenario::DoneRuns, which select_runs() takes.)
std::set<std::pair<uint32_t, uint32_t>> completed_runs(
    const std::vector<schema::ResultRecord>& records);

}  // namespace fogm2m::results
