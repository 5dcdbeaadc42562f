// Appends result records to an output directory, as the runner finishes
// points: records.jsonl (one ResultRecord a line, protobuf's JSON mapping
// with proto field names and every field printed) and records.csv (the flat
// columns of record_csv.h, header first). Both files are flushed after each
// record, so an interrupted run keeps every finished point; appending to a
// directory of an earlier run (--resume) continues both files.
#pragma once

#include <fstream>
#include <memory>
#include <string>

#include "lwm2m/result.h"
#include "schema/result.pb.h"

namespace fogm2m::results {

// One JSON line (no line break) for `record`.
Result<std::string> record_json_line(const schema::ResultRecord& record);

class RecordWriter {
 public:
  // Creates `output_dir` (and parents) if needed and opens both files for
  // appending. Errors: kIo (cannot create or open), kInvalidArgument when
  // records.csv exists with a different header (an older format).
  static Result<std::unique_ptr<RecordWriter>> open(const std::string& output_dir);

  // Appends `record` to both files and flushes them. kIo on a write error.
  Status append(const schema::ResultRecord& record);

  const std::string& dir() const { return dir_; }

 private:
  RecordWriter() = default;
  std::string dir_;
  std::ofstream jsonl_;
  std::ofstream csv_;
};

}  // namespace fogm2m::results
