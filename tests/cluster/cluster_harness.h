// Real nodes for end-to-end tests: a redis-server child process (or none, for
// in-memory nodes), N server nodes with real UDP (and DTLS) transports on
// ephemeral loopback ports, all on one io_context run by a background
// thread, and a bus observer that records every reply and event.
//
// Tests talk to the nodes only through the network, the bus and Redis, or
// through on_io(), which runs a function on the io thread and waits for it.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "io/redis_client.h"
#include "io/redis_link.h"
#include "lwm2m/model.h"
#include "server/node.h"
#include "server/transport/dtls_transport.h"
#include "server/transport/udp_transport.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"

namespace fogm2m::test {

// The shell command of libcoap's plain-CoAP client against a node's CoAP port
// on loopback: `args` (method, payload, ...) then the path and query.
inline std::string coap_client(uint16_t port, const std::string& args,
                               const std::string& path_and_query) {
  return "timeout 20 coap-client-notls -B 10 " + args +
         " 'coap://127.0.0.1:" + std::to_string(port) + path_and_query + "'";
}

struct HarnessOptions {
  int nodes = 1;
  bool redis = true;                    // false: one in-memory node
  std::vector<std::string> redis_args;  // e.g. {"--appendonly", "yes"}
  // With `redis`: this Redis Cluster (not owned) instead of a redis-server
  // of the harness' own; the nodes and the harness use it through
  // io::ClusterRedis (commands by slot, sharded pub/sub).
  RedisCluster* redis_cluster = nullptr;
  bool dtls = false;
  std::chrono::milliseconds device_timeout{3000};
  std::chrono::milliseconds sweep_interval{200};
  int64_t expiry_grace_ms = 0;
  std::chrono::milliseconds awake_time{93000};  // queue mode
  size_t max_queued_per_device = 16;
};

// A message seen on the bus.
struct BusRecord {
  std::string channel;
  std::string message;
};

class ClusterHarness {
 public:
  explicit ClusterHarness(HarnessOptions options = {});
  ~ClusterHarness();

  // Starts everything; false (and a message in error()) on failure.
  bool start();
  const std::string& error() const { return error_; }

  // Runs `fn` on the io thread and waits for it.
  void on_io(const std::function<void()>& fn);

  boost::asio::io_context& io() { return io_; }
  uint16_t coap_port(int node) const { return udp_[node]->local_port(); }
  uint16_t coaps_port(int node) const { return dtls_[node]->local_port(); }
  server::Node& node(int i) { return *nodes_[i]; }
  RedisServer* redis_server() { return redis_server_.get(); }

  // Publishes on the bus (Redis, or the in-memory node's bus).
  void publish(const std::string& channel, const std::string& message);
  // Sends a request on LWM2M_REQ and waits for its final reply (rep or err)
  // on LWM2M_RESP; returns the raw reply message or "" on timeout.
  std::string request(const std::string& json_request, const std::string& ticket,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Every bus message seen so far on `channel` (copies).
  std::vector<std::string> seen(const std::string& channel);
  // Waits until `pred` holds for the messages of `channel`. `pred` runs under
  // the harness lock: it must use its argument, not call seen().
  bool wait_for(const std::string& channel,
                const std::function<bool(const std::vector<std::string>&)>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // True while every node's Redis links are up (false without Redis).
  bool redis_up(int node);
  // Waits until the harness' own Redis links are up again (after a fault).
  bool wait_for_redis(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // A Redis command from the test thread (through the io thread).
  Result<io::RedisReply> redis(std::vector<std::string> argv);
  bool clustered() const { return options_.redis_cluster != nullptr; }
  RedisCluster* redis_cluster() { return options_.redis_cluster; }

 private:
  void record(std::string_view channel, std::string_view message);

  HarnessOptions options_;
  std::string error_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  std::unique_ptr<RedisServer> redis_server_;
  lwm2m::ModelRegistry models_;
  std::vector<std::unique_ptr<server::Node>> nodes_;
  std::vector<std::unique_ptr<server::UdpTransport>> udp_;
  std::vector<std::unique_ptr<server::DtlsTransport>> dtls_;
  std::unique_ptr<io::RedisLink> observer_, commands_;
  std::unique_ptr<io::ClusterRedis> cluster_client_;  // observer and commands, on a cluster
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::vector<std::string>> seen_;
};

// One Redis Cluster (3 masters, 3 replicas) for every test of the binary
// that asks for it, started at the first call (seconds) and emptied
// (FLUSHALL on every master) at each; nullptr and `error` when it cannot
// start. Tests that kill a node start a cluster of their own.
RedisCluster* shared_redis_cluster(std::string& error);

// Runs a command line with /bin/sh, returns its exit status and stdout+stderr.
struct CommandResult {
  int status = -1;
  std::string output;
};
CommandResult run_command(const std::string& command_line);

// The final reply to a bus request.
struct Reply {
  bool ok = false;           // a "rep"
  boost::json::object body;  // rep or err
};
// Sends `req_json` (the "req" object) for endpoint `ep` and waits for the
// final reply; fails the test on timeout or an unparsable reply.
Reply ask(ClusterHarness& h, const std::string& ep, const std::string& req_json);
// The reply's code ("CONTENT", ...), "ERR" for an err; the err's message.
std::string reply_code(const Reply& r);
std::string reply_error(const Reply& r);

// Whether a message naming endpoint `ep` is seen on `channel` within `wait`.
bool seen_endpoint(ClusterHarness& h, const std::string& channel, const std::string& ep,
                   std::chrono::milliseconds wait = std::chrono::seconds(10));
// How many of `messages` are notifications.
size_t count_notifications(const std::vector<std::string>& messages);

}  // namespace fogm2m::test
