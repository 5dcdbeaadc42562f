// Host steal and the speed probe; see host_stats.h.
#include "testbed/host_stats.h"

#include <time.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace fogm2m::testbed {

Result<HostCpuTicks> parse_proc_stat_cpu(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.starts_with("cpu ")) continue;
    // user nice system idle iowait irq softirq steal guest guest_nice
    uint64_t column[10] = {};
    size_t columns = 0;
    size_t at = 3;
    while (columns < 10) {
      while (at < line.size() && line[at] == ' ') ++at;
      if (at >= line.size()) break;
      auto [end, ec] =
          std::from_chars(line.data() + at, line.data() + line.size(), column[columns]);
      if (ec != std::errc() || (end != line.data() + line.size() && *end != ' ')) {
        return make_error(ErrorKind::kMalformed,
                          "/proc/stat: cpu line holds a non-number: " + std::string(line));
      }
      at = static_cast<size_t>(end - line.data());
      ++columns;
    }
    if (columns < 4)
      return make_error(ErrorKind::kMalformed, "/proc/stat: cpu line has fewer than 4 columns");
    HostCpuTicks ticks;
    // guest and guest_nice are counted inside user and nice already.
    for (size_t i = 0; i < std::min<size_t>(columns, 8); ++i) ticks.total += column[i];
    ticks.steal = columns > 7 ? column[7] : 0;
    return ticks;
  }
  return make_error(ErrorKind::kMalformed, "/proc/stat: no \"cpu \" line");
}

Result<HostCpuTicks> read_host_cpu_ticks(const std::string& proc_root) {
  const std::string path = proc_root + "/stat";
  std::ifstream in(path);
  if (!in) return make_error(ErrorKind::kNotFound, "cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return parse_proc_stat_cpu(text.str());
}

namespace {
double thread_cpu_us() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}
}  // namespace

double run_speed_probe_us() {
  const double start = thread_cpu_us();
  // A dependent chain of multiplications: no memory traffic, no
  // vectorisation, the same instructions on every call.
  volatile uint64_t sink = 0;
  uint64_t x = 1;
  for (int i = 0; i < 100000; ++i) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  sink = x;
  (void)sink;
  return thread_cpu_us() - start;
}

}  // namespace fogm2m::testbed
