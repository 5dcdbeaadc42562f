// Run metadata: machine facts from uname, /proc and sysconf; the scenario
// file's hash from OpenSSL's EVP.
#include "results/run_metadata.h"

#include <google/protobuf/util/json_util.h>
#include <openssl/evp.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#ifndef FOGM2M_VERSION
#define FOGM2M_VERSION "unknown"
#endif

namespace fogm2m::results {
namespace {

namespace fs = std::filesystem;

// The value after "key" and ':' on the first line of `file` that starts with key.
std::string proc_field(const std::string& file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const auto start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "";
}

}  // namespace

Result<std::string> sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::kIo, path + ": cannot open");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    return make_error(ErrorKind::kIo, "SHA-256 is not available from OpenSSL");
  char buf[65536];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    EVP_DigestUpdate(ctx.get(), buf, static_cast<size_t>(in.gcount()));
    if (in.eof()) break;
  }
  if (in.bad()) return make_error(ErrorKind::kIo, path + ": read failed");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xf];
  }
  return out;
}

std::string detect_cgroup_version(const std::string& cgroup_root) {
  std::error_code ec;
  if (fs::exists(fs::path(cgroup_root) / "cgroup.controllers", ec)) return "v2";
  if (fs::exists(fs::path(cgroup_root) / "cpu", ec) ||
      fs::exists(fs::path(cgroup_root) / "cpu,cpuacct", ec))
    return "v1";
  return "none";
}

Result<schema::RunMetadata> describe_run(const std::string& scenario_file,
                                         const std::string& git_revision,
                                         const schema::Scenario& scenario) {
  schema::RunMetadata m;
  m.set_fogm2m_version(FOGM2M_VERSION);
  m.set_git_revision(git_revision);
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) == 0) m.set_hostname(host);
  utsname u{};
  if (::uname(&u) == 0)
    m.set_kernel(std::string(u.sysname) + " " + u.release + " " + u.version + " " + u.machine);
  m.set_cpu_model(proc_field("/proc/cpuinfo", "model name"));
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  m.set_cpus(cpus > 0 ? static_cast<uint32_t>(cpus) : 0);
  // "MemTotal:       16318504 kB"
  const std::string mem = proc_field("/proc/meminfo", "MemTotal");
  if (!mem.empty()) m.set_memory_bytes(std::strtod(mem.c_str(), nullptr) * 1024.0);
  m.set_cgroup_version(scenario.mode() == schema::MODE_SIM ? "none" : detect_cgroup_version());
  m.set_scenario_file(scenario_file);
  auto hash = sha256_file(scenario_file);
  if (!hash) return hash.error();
  m.set_scenario_sha256(*hash);
  m.set_started_unix_s(
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  *m.mutable_scenario() = scenario;
  return m;
}

Status write_metadata(const std::string& output_dir, const schema::RunMetadata& metadata) {
  std::error_code ec;
  fs::create_directories(output_dir, ec);
  if (ec)
    return make_error(ErrorKind::kIo,
                      output_dir + ": cannot create the output directory: " + ec.message());
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  const auto status = google::protobuf::util::MessageToJsonString(metadata, &json, options);
  if (!status.ok())
    return make_error(ErrorKind::kInvalidArgument,
                      "cannot print metadata as JSON: " + status.ToString());
  const fs::path path = fs::path(output_dir) / "metadata.json";
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << json;
  out.flush();
  if (!out) return make_error(ErrorKind::kIo, path.string() + ": write failed");
  return {};
}

Result<schema::RunMetadata> read_metadata(const std::string& output_dir) {
  const fs::path path = fs::path(output_dir) / "metadata.json";
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::kNotFound, path.string() + ": no metadata");
  std::stringstream text;
  text << in.rdbuf();
  schema::RunMetadata metadata;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (const auto status =
          google::protobuf::util::JsonStringToMessage(text.str(), &metadata, options);
      !status.ok())
    return make_error(ErrorKind::kMalformed, path.string() + ": " + status.ToString());
  return metadata;
}

}  // namespace fogm2m::results
