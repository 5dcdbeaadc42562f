// /proc/<pid>/stat and /proc/<pid>/status parsers; see process_stats.h.
#include "testbed/process_stats.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "testbed/cgroup_stats.h"

namespace fogm2m::testbed {

Result<ProcessUsage> parse_proc_stat(std::string_view text, long clock_ticks_per_s,
                                     long page_size) {
  if (clock_ticks_per_s <= 0 || page_size <= 0) {
    return make_error(ErrorKind::kInvalidArgument, "clock ticks and page size must be positive");
  }
  size_t close = text.rfind(')');
  if (close == std::string_view::npos)
    return make_error(ErrorKind::kMalformed, "proc stat: no \"(comm)\"");
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
        return make_error(ErrorKind::kMalformed, "proc stat: field " + std::to_string(field) +
                                                     " \"" + std::string(rest.substr(0, end)) +
                                                     "\" is not a number");
      }
    }
    rest.remove_prefix(end);
  }
  if (field < 24)
    return make_error(ErrorKind::kMalformed,
                      "proc stat: only " + std::to_string(field) + " fields");
  ProcessUsage usage;
  usage.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(clock_ticks_per_s);
  usage.memory_bytes = rss * static_cast<uint64_t>(page_size);
  return usage;
}

Result<uint64_t> parse_proc_status_wakeups(std::string_view text) {
  constexpr std::string_view kKey = "voluntary_ctxt_switches:";
  size_t at = 0;
  while ((at = text.find(kKey, at)) != std::string_view::npos && at > 0 && text[at - 1] != '\n')
    at += kKey.size();
  if (at == std::string_view::npos)
    return make_error(ErrorKind::kMalformed, "proc status: no voluntary_ctxt_switches line");
  std::string_view rest = text.substr(at + kKey.size());
  rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));
  const std::string_view digits =
      rest.substr(0, std::min(rest.find_first_of(" \t\n"), rest.size()));
  uint64_t value = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size()) {
    return make_error(ErrorKind::kMalformed, "proc status: voluntary_ctxt_switches \"" +
                                                 std::string(digits) + "\" is not a number");
  }
  return value;
}

Result<ProcessUsage> read_process_usage(pid_t pid, const std::string& proc_root) {
  if (pid <= 0) return make_error(ErrorKind::kInvalidArgument, "bad pid " + std::to_string(pid));
  const std::string dir = proc_root + "/" + std::to_string(pid);
  auto text = read_text_file(dir + "/stat");
  if (!text) return text.error();
  auto usage = parse_proc_stat(*text, ::sysconf(_SC_CLK_TCK), ::sysconf(_SC_PAGESIZE));
  if (!usage) return usage;
  auto status = read_text_file(dir + "/status");
  if (!status) return status.error();
  auto wakeups = parse_proc_status_wakeups(*status);
  if (!wakeups) return wakeups.error();
  usage->wakeups = *wakeups;
  return usage;
}

}  // namespace fogm2m::testbed
