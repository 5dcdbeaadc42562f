// Result records as JSON Lines and CSV, flushed record by record.
#include "results/record_writer.h"

#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <system_error>

#include "results/record_csv.h"

namespace fogm2m::results {

namespace fs = std::filesystem;

Result<std::string> record_json_line(const schema::ResultRecord& record) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string line;
  const auto status = google::protobuf::util::MessageToJsonString(record, &line, options);
  if (!status.ok())
    return make_error(ErrorKind::kInvalidArgument,
                      "cannot print record as JSON: " + status.ToString());
  return line;
}

Result<std::unique_ptr<RecordWriter>> RecordWriter::open(const std::string& output_dir) {
  std::error_code ec;
  fs::create_directories(output_dir, ec);
  if (ec)
    return make_error(ErrorKind::kIo,
                      output_dir + ": cannot create the output directory: " + ec.message());

  const fs::path csv_path = fs::path(output_dir) / "records.csv";
  const fs::path jsonl_path = fs::path(output_dir) / "records.jsonl";
  bool csv_new = true;
  if (fs::exists(csv_path, ec) && fs::file_size(csv_path, ec) > 0) {
    csv_new = false;
    std::ifstream existing(csv_path);
    std::string header;
    std::getline(existing, header);
    if (header != csv_header())
      return make_error(
          ErrorKind::kInvalidArgument,
          csv_path.string() +
              ": has other columns than this version writes; use a new output directory");
  }

  std::unique_ptr<RecordWriter> w(new RecordWriter());
  w->dir_ = output_dir;
  w->jsonl_.open(jsonl_path, std::ios::app | std::ios::binary);
  if (!w->jsonl_)
    return make_error(ErrorKind::kIo, jsonl_path.string() + ": cannot open for appending");
  w->csv_.open(csv_path, std::ios::app | std::ios::binary);
  if (!w->csv_)
    return make_error(ErrorKind::kIo, csv_path.string() + ": cannot open for appending");
  if (csv_new) {
    w->csv_ << csv_header() << '\n';
    w->csv_.flush();
    if (!w->csv_)
      return make_error(ErrorKind::kIo, csv_path.string() + ": cannot write the header");
  }
  return w;
}

Status RecordWriter::append(const schema::ResultRecord& record) {
  auto line = record_json_line(record);
  if (!line) return line.error();
  jsonl_ << *line << '\n';
  jsonl_.flush();
  if (!jsonl_) return make_error(ErrorKind::kIo, dir_ + "/records.jsonl: write failed");
  csv_ << csv_row(record) << '\n';
  csv_.flush();
  if (!csv_) return make_error(ErrorKind::kIo, dir_ + "/records.csv: write failed");
  return {};
}

}  // namespace fogm2m::results
