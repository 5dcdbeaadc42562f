// Raw latency sample files (format in latency_file.h).
#include "results/latency_file.h"

#include <filesystem>
#include <fstream>
#include <iterator>

namespace fogm2m::results {

namespace fs = std::filesystem;

std::string latency_file_name(uint32_t point_index, uint32_t repetition) {
  return "latency/" + std::to_string(point_index) + "-" + std::to_string(repetition) + ".u32";
}

Result<std::string> write_latency_samples(const std::string& output_dir, uint32_t point_index,
                                          uint32_t repetition,
                                          std::span<const uint32_t> samples_us) {
  const std::string name = latency_file_name(point_index, repetition);
  std::error_code ec;
  fs::create_directories(fs::path(output_dir) / "latency", ec);
  if (ec)
    return make_error(ErrorKind::kIo, output_dir + "/latency: cannot create: " + ec.message());
  std::string bytes;
  bytes.reserve(samples_us.size() * 4);
  for (uint32_t v : samples_us)
    for (int shift = 0; shift < 32; shift += 8) bytes += static_cast<char>((v >> shift) & 0xff);
  // Written beside, then renamed: a reader never sees half a file.
  const fs::path final_path = fs::path(output_dir) / name;
  const fs::path tmp_path = final_path.string() + ".tmp";
  {
    std::ofstream out(tmp_path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) return make_error(ErrorKind::kIo, tmp_path.string() + ": write failed");
  }
  fs::rename(tmp_path, final_path, ec);
  if (ec)
    return make_error(ErrorKind::kIo,
                      final_path.string() + ": cannot rename into place: " + ec.message());
  return name;
}

Result<std::vector<uint32_t>> read_latency_samples(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::kIo, path + ": cannot open");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return make_error(ErrorKind::kIo, path + ": read failed");
  if (bytes.size() % 4 != 0)
    return make_error(ErrorKind::kMalformed, path + ": " + std::to_string(bytes.size()) +
                                                 " bytes is not a whole number of samples");
  std::vector<uint32_t> samples(bytes.size() / 4);
  for (size_t i = 0; i < samples.size(); ++i) {
    uint32_t v = 0;
    for (int b = 3; b >= 0; --b)
      v = (v << 8) | static_cast<unsigned char>(bytes[i * 4 + static_cast<size_t>(b)]);
    samples[i] = v;
  }
  return samples;
}

}  // namespace fogm2m::results
