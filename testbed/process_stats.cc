// /proc/<pid>/stat parser; see process_stats.h.
#include "testbed/process_stats.h"

#include <unistd.h>

#include <charconv>

#include "testbed/cgroup_stats.h"

namespace fogm2m::testbed {

Result<ProcessUsage> parse_proc_stat(std::string_view text, long clock_ticks_per_s, long page_size) {
  if (clock_ticks_per_s <= 0 || page_size <= 0) {
    return make_error(ErrorKind::kInvalidArgument, "clock ticks and page size must be positive");
  }
  size_t close = text.rfind(')');
  if (close == std::string_view::npos) return make_error(ErrorKind::kMalformed, "proc stat: no \"(comm)\"");
  // Field 3 (state) follows ") "; utime is field 14, stime 15, rss 24.
  std::string_view rest = text.substr(close + 1);
  uint64_t utime = 0, stime = 0, rss = 0;
  int field = 2;
  while (!rest.empty() && field < 24) {
    size_t start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    size_t end = std::min(rest.find_first_of(" \n"), rest.size());
    ++field;
    uint64_t* target = field == 14 ? &utime : field == 15 ? &stime : field == 24 ? &rss : nullptr;
    if (target != nullptr) {
      auto [p, ec] = std::from_chars(rest.data(), rest.data() + end, *target);
      if (ec != std::errc() || p != rest.data() + end) {
        return make_error(ErrorKind::kMalformed,
                          "proc stat: field " + std::to_string(field) + " \"" + std::string(rest.substr(0, end)) +
                              "\" is not a number");
      }
    }
    rest.remove_prefix(end);
  }
  if (field < 24) return make_error(ErrorKind::kMalformed, "proc stat: only " + std::to_string(field) + " fields");
  ProcessUsage usage;
  usage.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(clock_ticks_per_s);
  usage.memory_bytes = rss * static_cast<uint64_t>(page_size);
  return usage;
}

Result<ProcessUsage> read_process_usage(pid_t pid, const std::string& proc_root) {
  if (pid <= 0) return make_error(ErrorKind::kInvalidArgument, "bad pid " + std::to_string(pid));
  auto text = read_text_file(proc_root + "/" + std::to_string(pid) + "/stat");
  if (!text) return text.error();
  return parse_proc_stat(*text, ::sysconf(_SC_CLK_TCK), ::sysconf(_SC_PAGESIZE));
}

}  // namespace fogm2m::testbed
