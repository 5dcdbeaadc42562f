// records.jsonl -> ResultRecords.
#include "results/record_reader.h"

#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <fstream>

namespace fogm2m::results {

Result<std::vector<schema::ResultRecord>> read_records(const std::string& output_dir) {
  const std::string path = (std::filesystem::path(output_dir) / "records.jsonl").string();
  std::vector<schema::ResultRecord> records;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return records;
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::kIo, path + ": cannot open");
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    schema::ResultRecord record;
    const auto status = google::protobuf::util::JsonStringToMessage(line, &record, options);
    if (!status.ok())
      return make_error(ErrorKind::kMalformed,
                        path + ":" + std::to_string(number) + ": " + std::string(status.message()));
    records.push_back(std::move(record));
  }
  if (in.bad()) return make_error(ErrorKind::kIo, path + ": read failed");
  return records;
}

std::set<std::pair<uint32_t, uint32_t>> completed_runs(
    const std::vector<schema::ResultRecord>& records) {
  std::set<std::pair<uint32_t, uint32_t>> done;
  for (const auto& r : records)
    if (r.error().empty()) done.insert({r.point_index(), r.repetition()});
  return done;
}

}  // namespace fogm2m::results
