// Parsers of cgroup v1/v2 interface files; see cgroup_stats.h.
#include "testbed/cgroup_stats.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace fogm2m::testbed {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool parse_u64(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// Calls f(line) for every non-empty line.
template <class F>
void for_each_line(std::string_view text, F&& f) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    line = trim(line);
    if (!line.empty()) f(line);
  }
}

std::string errno_text(int err) {
  return std::strerror(err);
}

uint64_t value_or_zero(const std::map<std::string, uint64_t>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

Result<uint64_t> read_single_value(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  return parse_single_value(*text, path);
}

Result<std::map<std::string, uint64_t>> read_flat_keyed(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  return parse_flat_keyed(*text, path);
}

}  // namespace

Result<std::map<std::string, uint64_t>> parse_flat_keyed(std::string_view text,
                                                         std::string_view file) {
  std::map<std::string, uint64_t> values;
  std::string bad;
  for_each_line(text, [&](std::string_view line) {
    if (!bad.empty()) return;
    size_t sp = line.find_first_of(" \t");
    uint64_t v = 0;
    if (sp == std::string_view::npos || !parse_u64(trim(line.substr(sp)), v)) {
      bad = std::string(line);
      return;
    }
    values[std::string(line.substr(0, sp))] = v;
  });
  if (!bad.empty()) {
    return make_error(ErrorKind::kMalformed,
                      std::string(file) + ": expected \"key value\", got \"" + bad + "\"");
  }
  return values;
}

Result<uint64_t> parse_single_value(std::string_view text, std::string_view file) {
  uint64_t v = 0;
  std::string_view t = trim(text);
  if (!parse_u64(t, v)) {
    return make_error(ErrorKind::kMalformed,
                      std::string(file) + ": expected a number, got \"" + std::string(t) + "\"");
  }
  return v;
}

Result<CpuMax> parse_cpu_max(std::string_view text) {
  std::string_view t = trim(text);
  size_t sp = t.find(' ');
  CpuMax out;
  if (sp == std::string_view::npos || !parse_u64(trim(t.substr(sp + 1)), out.period_us) ||
      out.period_us == 0) {
    return make_error(ErrorKind::kMalformed,
                      "cpu.max: expected \"<quota|max> <period>\", got \"" + std::string(t) + "\"");
  }
  std::string_view quota = t.substr(0, sp);
  if (quota == "max") {
    out.quota_us = 0;
  } else if (!parse_u64(quota, out.quota_us)) {
    return make_error(ErrorKind::kMalformed, "cpu.max: bad quota \"" + std::string(quota) + "\"");
  }
  return out;
}

std::vector<std::string> parse_controllers(std::string_view text) {
  std::vector<std::string> out;
  std::string_view t = trim(text);
  while (!t.empty()) {
    size_t sp = t.find_first_of(" \t\n");
    std::string_view word = t.substr(0, sp);
    if (!word.empty() && (word.front() == '+')) word.remove_prefix(1);
    if (!word.empty()) out.emplace_back(word);
    t = sp == std::string_view::npos ? std::string_view() : trim(t.substr(sp + 1));
  }
  return out;
}

Result<std::vector<pid_t>> parse_procs(std::string_view text) {
  std::vector<pid_t> pids;
  std::string bad;
  for_each_line(text, [&](std::string_view line) {
    uint64_t v = 0;
    if (!parse_u64(line, v) || v == 0 || v > 0x7fffffff) {
      if (bad.empty()) bad = std::string(line);
      return;
    }
    pids.push_back(static_cast<pid_t>(v));
  });
  if (!bad.empty())
    return make_error(ErrorKind::kMalformed, "cgroup.procs: bad pid \"" + bad + "\"");
  return pids;
}

Result<std::vector<ProcCgroupEntry>> parse_proc_cgroup(std::string_view text) {
  std::vector<ProcCgroupEntry> entries;
  std::string bad;
  for_each_line(text, [&](std::string_view line) {
    size_t c1 = line.find(':');
    size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    uint64_t id = 0;
    if (c2 == std::string_view::npos || !parse_u64(line.substr(0, c1), id) ||
        line.substr(c2 + 1).empty() || line[c2 + 1] != '/') {
      if (bad.empty()) bad = std::string(line);
      return;
    }
    ProcCgroupEntry e;
    e.hierarchy_id = static_cast<int>(id);
    std::string_view list = line.substr(c1 + 1, c2 - c1 - 1);
    while (!list.empty()) {
      size_t comma = list.find(',');
      if (comma != 0) e.controllers.emplace_back(list.substr(0, comma));
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
    e.path = std::string(line.substr(c2 + 1));
    entries.push_back(std::move(e));
  });
  if (!bad.empty()) {
    return make_error(ErrorKind::kMalformed,
                      "/proc/self/cgroup: expected \"id:controllers:/path\", got \"" + bad + "\"");
  }
  return entries;
}

Result<CgroupSample> read_v1_sample(const std::string& cpu_dir, const std::string& cpuacct_dir,
                                    const std::string& memory_dir) {
  auto stat = read_flat_keyed(cpu_dir + "/cpu.stat");
  if (!stat) return stat.error();
  auto usage_ns = read_single_value(cpuacct_dir + "/cpuacct.usage");
  if (!usage_ns) return usage_ns.error();
  auto memory = read_single_value(memory_dir + "/memory.usage_in_bytes");
  if (!memory) return memory.error();
  auto peak = read_single_value(memory_dir + "/memory.max_usage_in_bytes");
  if (!peak) return peak.error();

  CgroupSample s;
  s.cpu_s = static_cast<double>(*usage_ns) / 1e9;
  s.nr_periods = value_or_zero(*stat, "nr_periods");
  s.nr_throttled = value_or_zero(*stat, "nr_throttled");
  s.throttled_s = static_cast<double>(value_or_zero(*stat, "throttled_time")) / 1e9;
  s.memory_bytes = *memory;
  s.memory_peak_bytes = *peak;
  s.memory_peak_from_kernel = true;
  return s;
}

Result<CgroupSample> read_v2_sample(const std::string& dir) {
  auto stat = read_flat_keyed(dir + "/cpu.stat");
  if (!stat) return stat.error();
  auto memory = read_single_value(dir + "/memory.current");
  if (!memory) return memory.error();

  CgroupSample s;
  s.cpu_s = static_cast<double>(value_or_zero(*stat, "usage_usec")) / 1e6;
  s.nr_periods = value_or_zero(*stat, "nr_periods");
  s.nr_throttled = value_or_zero(*stat, "nr_throttled");
  s.throttled_s = static_cast<double>(value_or_zero(*stat, "throttled_usec")) / 1e6;
  s.memory_bytes = *memory;
  auto peak = read_single_value(dir + "/memory.peak");
  if (peak) {
    s.memory_peak_bytes = *peak;
    s.memory_peak_from_kernel = true;
  } else if (peak.error().kind == ErrorKind::kNotFound) {
    s.memory_peak_bytes = s.memory_bytes;  // kernel < 5.19: the series' maximum is the peak
  } else {
    return peak.error();
  }
  return s;
}

Result<std::string> read_text_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return make_error(err == ENOENT || err == ESRCH ? ErrorKind::kNotFound : ErrorKind::kIo,
                      "cannot open " + path + ": " + errno_text(err));
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return make_error(err == ESRCH || err == ENODEV ? ErrorKind::kNotFound : ErrorKind::kIo,
                        "cannot read " + path + ": " + errno_text(err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status write_text_file(const std::string& path, std::string_view text) {
  // O_TRUNC keeps a fake tree's file equal to the last write; kernel
  // interface files ignore it.
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return make_error(err == ENOENT ? ErrorKind::kNotFound : ErrorKind::kIo,
                      "cannot open " + path + " for writing: " + errno_text(err));
  }
  // Kernel interface files take one write per value; a short write is an error.
  ssize_t n;
  do {
    n = ::write(fd, text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (n < 0 || static_cast<size_t>(n) != text.size()) {
    return make_error(ErrorKind::kIo, "cannot write \"" + std::string(trim(text)) + "\" to " +
                                          path + ": " +
                                          (n < 0 ? errno_text(err) : std::string("short write")));
  }
  return {};
}

}  // namespace fogm2m::testbed
