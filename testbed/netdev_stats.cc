// /proc/<pid>/net/dev parser; see netdev_stats.h.
#include "testbed/netdev_stats.h"

#include <charconv>
#include <vector>

#include "testbed/cgroup_stats.h"

namespace fogm2m::testbed {

Result<NetDevCounters> parse_net_dev(std::string_view text) {
  NetDevCounters sum;
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (++line_no <= 2) continue;  // "Inter-|   Receive ..." and " face |bytes ..."
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      return make_error(ErrorKind::kMalformed, "net/dev line " + std::to_string(line_no) +
                                                   ": no \"name:\" in \"" + std::string(line) +
                                                   "\"");
    }
    std::string_view name = line.substr(0, colon);
    name.remove_prefix(std::min(name.find_first_not_of(' '), name.size()));
    std::vector<uint64_t> fields;
    std::string_view rest = line.substr(colon + 1);
    while (!rest.empty()) {
      size_t start = rest.find_first_not_of(" \t\r");
      if (start == std::string_view::npos) break;
      rest.remove_prefix(start);
      size_t end = std::min(rest.find_first_of(" \t\r"), rest.size());
      uint64_t v = 0;
      auto [p, ec] = std::from_chars(rest.data(), rest.data() + end, v);
      if (ec != std::errc() || p != rest.data() + end) {
        return make_error(ErrorKind::kMalformed, "net/dev line " + std::to_string(line_no) +
                                                     ": bad counter \"" +
                                                     std::string(rest.substr(0, end)) + "\"");
      }
      fields.push_back(v);
      rest.remove_prefix(end);
    }
    // 8 receive counters (bytes packets errs drop fifo frame compressed
    // multicast), then 8 transmit counters (bytes packets ...).
    if (fields.size() < 16) {
      return make_error(ErrorKind::kMalformed, "net/dev line " + std::to_string(line_no) + ": " +
                                                   std::to_string(fields.size()) +
                                                   " counters, expected 16");
    }
    if (name == "lo") continue;
    sum.rx_bytes += fields[0];
    sum.rx_packets += fields[1];
    sum.tx_bytes += fields[8];
    sum.tx_packets += fields[9];
  }
  return sum;
}

Result<NetDevCounters> read_net_dev_file(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  return parse_net_dev(*text);
}

Result<NetDevCounters> read_net_dev(pid_t pid, const std::string& proc_root) {
  if (pid <= 0) return make_error(ErrorKind::kInvalidArgument, "bad pid " + std::to_string(pid));
  return read_net_dev_file(proc_root + "/" + std::to_string(pid) + "/net/dev");
}

}  // namespace fogm2m::testbed
