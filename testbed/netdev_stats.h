// Network counters of a network namespace, as /proc/<pid>/net/dev shows them
// for the namespace the process <pid> lives in: bytes and packets received
// and sent, summed over every interface except the loopback.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "lwm2m/result.h"

namespace fogm2m::testbed {

struct NetDevCounters {
  uint64_t rx_bytes = 0;
  uint64_t rx_packets = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_packets = 0;
};

// Parses the text of a net/dev file (two header lines, then one line per
// interface "name: 16 counters"). Errors: kMalformed naming the bad line.
Result<NetDevCounters> parse_net_dev(std::string_view text);

// Reads <proc_root>/<pid>/net/dev ("self" works as pid text via the overload).
// Errors: kNotFound when the process is gone, kMalformed as above.
Result<NetDevCounters> read_net_dev(pid_t pid, const std::string& proc_root = "/proc");
Result<NetDevCounters> read_net_dev_file(const std::string& path);

}  // namespace fogm2m::testbed
