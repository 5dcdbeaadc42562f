// The container backend; see container_deployment.h.
#include "testbed/container_deployment.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "emulated_clients/name_pattern.h"
#include "store/keys.h"
#include "store/security_info.h"
#include "testbed/command.h"
#include "testbed/deployment_steps.h"
#include "testbed/host_sysctl.h"
#include "testbed/netns.h"

namespace fogm2m::testbed {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kRunLabel = "fogm2m.run";
constexpr const char* kIpForwardKey = "net.ipv4.ip_forward";
constexpr auto kEnginePoll = std::chrono::milliseconds(100);
// The descriptors of a fleet container (the images' ulimit, containers.conf
// here).
constexpr uint64_t kContainerDescriptors = 20000;
// Environment of the engine that a cleanup in another process needs.
constexpr const char* kEngineEnvironment[] = {"CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF",
                                              "DOCKER_HOST"};

std::string env_or(const char* name, const std::string& fallback = "") {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

bool in_path(const std::string& program) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0;
  std::istringstream dirs(env_or("PATH", "/usr/local/bin:/usr/bin:/bin"));
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

bool is_docker(const std::string& engine) {
  return std::filesystem::path(engine).filename() == "docker";
}

std::string trim_output(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

// The engine's argv with the recorded environment put in front (env(1)).
std::vector<std::string> with_environment(const std::vector<std::string>& environment,
                                          std::vector<std::string> argv) {
  if (environment.empty()) return argv;
  std::vector<std::string> out = {"env"};
  out.insert(out.end(), environment.begin(), environment.end());
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::string command_error(const std::vector<std::string>& args, const CommandResult& r) {
  std::string line;
  for (const auto& a : args) line += (line.empty() ? "" : " ") + a;
  return line + ": exit " + std::to_string(r.exit_code) + ": " + trim_output(r.err + r.out);
}

// Names of the containers labelled with the run, from `ps -a`.
Result<std::vector<std::string>> labelled_containers(const std::vector<std::string>& environment,
                                                     const std::string& engine,
                                                     const std::string& run) {
  const std::vector<std::string> args = {
      engine,     "ps",        "-a", "--filter", std::string("label=") + kRunLabel + "=" + run,
      "--format", "{{.Names}}"};
  Result<CommandResult> r = run_command(with_environment(environment, args));
  if (!r) return r.error();
  if (r->exit_code != 0) return make_error(ErrorKind::kIo, command_error(args, *r));
  std::vector<std::string> names;
  std::istringstream lines(r->out);
  std::string line;
  while (std::getline(lines, line)) {
    if (!trim_output(line).empty()) names.push_back(trim_output(line));
  }
  return names;
}

// Removes the run's containers, fleets first (they de-register while the
// nodes still answer), then its network. `rm --force` can lose a race with
// a container that stops by itself meanwhile ("container state improper"):
// the containers still there are listed and removed again, up to 3 times.
Status remove_labelled(const std::vector<std::string>& environment, const std::string& engine,
                       const std::string& run, const std::string& network, int* removed) {
  std::string last_error;
  for (int attempt = 0; attempt < 3; ++attempt) {
    Result<std::vector<std::string>> names = labelled_containers(environment, engine, run);
    if (!names) return names.error();
    if (names->empty()) {
      last_error.clear();
      break;
    }
    std::vector<std::string> fleets, others;
    for (const auto& name : *names)
      (name.find("-fleet") != std::string::npos ? fleets : others).push_back(name);
    for (const auto* group : {&fleets, &others}) {
      if (group->empty()) continue;
      std::vector<std::string> args = {engine, "rm", "--force"};
      if (!is_docker(engine)) args.insert(args.end(), {"--time", "2"});
      args.insert(args.end(), group->begin(), group->end());
      Result<CommandResult> r = run_command(with_environment(environment, args));
      if (!r) return r.error();
      if (r->exit_code != 0) last_error = command_error(args, *r);
      if (removed != nullptr && r->exit_code == 0) *removed += static_cast<int>(group->size());
    }
  }
  if (Result<std::vector<std::string>> left = labelled_containers(environment, engine, run);
      !left || !left->empty())
    return make_error(ErrorKind::kIo, "containers of run " + run + " left: " + last_error);
  if (!network.empty()) {
    const std::vector<std::string> exists = {engine, "network", "inspect", network};
    Result<CommandResult> there = run_command(with_environment(environment, exists));
    if (there && there->exit_code == 0) {
      const std::vector<std::string> args = {engine, "network", "rm", network};
      Result<CommandResult> r = run_command(with_environment(environment, args));
      if (!r) return r.error();
      if (r->exit_code != 0) return make_error(ErrorKind::kIo, command_error(args, *r));
    }
  }
  return {};
}

}  // namespace

// ---------------------------------------------------------------------------
// Records and the cleanup of crashed runs

std::string run_containers_path(const std::string& run) {
  return std::string(kStateDir) + "/" + run + ".containers";
}

std::vector<std::string> runs_with_container_records() {
  std::vector<std::string> runs;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(kStateDir, ec)) {
    const auto path = entry.path();
    if (path.extension() == ".containers" && valid_run_id(path.stem().string()))
      runs.push_back(path.stem().string());
  }
  std::sort(runs.begin(), runs.end());
  return runs;
}

// The record: "engine <path>", "network <name>", "env KEY=VALUE" lines.
Status remove_run_containers(const std::string& run, int* removed) {
  if (removed != nullptr) *removed = 0;
  if (!valid_run_id(run)) return make_error(ErrorKind::kInvalidArgument, "bad run id " + run);
  const std::string path = run_containers_path(run);
  std::ifstream in(path);
  if (!in) return {};
  std::string engine, network, line;
  std::vector<std::string> environment;
  while (std::getline(in, line)) {
    const size_t space = line.find(' ');
    if (space == std::string::npos) continue;
    const std::string key = line.substr(0, space), value = line.substr(space + 1);
    if (key == "engine") engine = value;
    if (key == "network") network = value;
    if (key == "env") environment.push_back(value);
  }
  if (engine.empty()) return make_error(ErrorKind::kMalformed, path + " names no engine");
  if (Status s = remove_labelled(environment, engine, run, network, removed); !s) return s;
  ::unlink(path.c_str());
  return {};
}

// ---------------------------------------------------------------------------
// ContainerDeployment

Result<std::unique_ptr<ContainerDeployment>> ContainerDeployment::up(
    DeploymentConfig config, ContainerOptions options, const std::atomic<bool>* cancel) {
  if (config.run_id.empty()) config.run_id = random_run_id();
  if (!valid_run_id(config.run_id))
    return make_error(ErrorKind::kInvalidArgument,
                      "bad run id \"" + config.run_id + "\" (1..6 of a-z0-9)");
  if (config.nodes < 1 || config.nodes > 200)
    return make_error(ErrorKind::kInvalidArgument, "nodes must be within 1..200");
  if (config.redis_cluster)
    return make_error(ErrorKind::kUnsupported,
                      "the container backend runs one Redis: redis: cluster needs the "
                      "namespaces backend");
  if (config.devices < 0 || (config.devices > 0 && (config.fleets < 1 || config.fleets > 200)))
    return make_error(ErrorKind::kInvalidArgument, "devices must be >= 0 and fleets within 1..200");
  if (config.devices > 0) {
    const int fleets = std::min(config.fleets, config.devices);
    const uint64_t largest =
        static_cast<uint64_t>(config.devices / fleets + (config.devices % fleets != 0 ? 1 : 0));
    if (config.shared_sockets == SharedSockets::kAlways ||
        largest + kFleetReservedDescriptors > kContainerDescriptors)
      return make_error(ErrorKind::kUnsupported,
                        std::to_string(largest) +
                            " devices per fleet: a fleet container has a socket per device and "
                            "at most " +
                            std::to_string(kContainerDescriptors) +
                            " descriptors; split them over more fleets");
  }
  if (options.engine.empty()) options.engine = env_or("FOGM2M_CONTAINER_ENGINE");
  if (options.engine.empty()) options.engine = in_path("podman") ? "podman" : "docker";
  if (!in_path(options.engine))
    return make_error(
        ErrorKind::kNotFound,
        "container engine " + options.engine + " not found (scripts/install-deps.sh --containers)");
  if (options.fogm2m_image.empty()) options.fogm2m_image = env_or("FOGM2M_IMAGE");
  if (options.redis_image.empty()) options.redis_image = env_or("REDIS_IMAGE");
  if (options.fogm2m_image.empty() || options.redis_image.empty())
    return make_error(ErrorKind::kInvalidArgument,
                      "the container backend needs the fogm2m and Redis images: run it through "
                      "scripts/container-run.sh, or set FOGM2M_IMAGE and REDIS_IMAGE "
                      "(scripts/container-images.sh makes them)");
  const std::string& net = options.network;
  if (std::count(net.begin(), net.end(), '.') != 3 || !net.ends_with(".0.0"))
    return make_error(ErrorKind::kInvalidArgument,
                      "container network " + net + " is not the start of a /16 (a.b.0.0)");
  if (config.work_dir.empty()) config.work_dir = "/tmp/fogm2m-" + config.run_id;

  std::unique_ptr<ContainerDeployment> d(
      new ContainerDeployment(std::move(config), std::move(options)));
  d->engine_ = d->options_.engine;
  if (Status s = d->bring_up(cancel); !s) {
    (void)d->down();
    return s.error();
  }
  return d;
}

std::string ContainerDeployment::container_name(const std::string& member) const {
  return run_netns_prefix(config_.run_id) + member;
}

std::string ContainerDeployment::address(int block, int host) const {
  const std::string& net = options_.network;
  return net.substr(0, net.size() - 3) + std::to_string(block) + "." + std::to_string(host);
}

Result<CommandResult> ContainerDeployment::run_engine(std::vector<std::string> args,
                                                      int timeout_s) const {
  args.insert(args.begin(), engine_);
  CommandOptions options;
  options.timeout = std::chrono::seconds(timeout_s);
  return run_command(args, options);
}

std::string ContainerDeployment::logs(const std::string& member) const {
  Result<CommandResult> r = run_engine({"logs", "--tail", "20", container_name(member)}, 10);
  if (!r) return r.error().message;
  return trim_output(r->out + r->err);
}

Status ContainerDeployment::bring_up(const std::atomic<bool>* cancel) {
  Result<RunLock> lock = RunLock::acquire(config_.run_id);
  if (!lock) return lock.error();
  lock_.emplace(std::move(*lock));
  std::error_code ec;
  std::filesystem::create_directories(config_.work_dir, ec);
  if (ec) return make_error(ErrorKind::kIo, "create " + config_.work_dir + ": " + ec.message());
  Result<CgroupHost> host = CgroupHost::detect();
  if (!host) return host.error();
  cgroup_host_.emplace(std::move(*host));

  // A leftover of a crashed run under this id (its lock is ours now), then
  // the record: whatever is made next, a cleanup finds it.
  if (Status s = remove_run_containers(config_.run_id); !s) return s;
  const std::string name = "fm-" + config_.run_id;
  {
    std::ofstream record(run_containers_path(config_.run_id), std::ios::trunc);
    record << "engine " << engine_ << "\nnetwork " << name << "\n";
    for (const char* key : kEngineEnvironment) {
      if (const char* value = std::getenv(key)) record << "env " << key << "=" << value << "\n";
    }
    if (!record)
      return make_error(ErrorKind::kIo, "cannot write " + run_containers_path(config_.run_id));
    record_written_ = true;
  }

  // podman's netavark turns the host's net.ipv4.ip_forward on when it makes
  // a bridge, internal ones too: recorded first (host_sysctl.h), so down()
  // and the cleanup of a crashed run put it back.
  if (!is_docker(engine_)) {
    Result<SysctlChange> raised = raise_host_sysctl(config_.run_id, kIpForwardKey, 1);
    if (!raised) return raised.error();
  }
  // The network: internal (nothing routed to or from the host's other
  // networks, no NAT rules), addresses fixed by us, no DNS server.
  const std::vector<std::string> create = {"network", "create", "--internal", "--subnet",
                                           options_.network + "/16"};
  std::vector<std::string> args = create;
  if (!is_docker(engine_)) args.push_back("--disable-dns");
  args.insert(args.end(), {"--label", std::string(kRunLabel) + "=" + config_.run_id, name});
  Result<CommandResult> made = run_engine(args);
  if (!made) return made.error();
  if (made->exit_code != 0) return make_error(ErrorKind::kIo, command_error(args, *made));
  network_ = name;
  if (cancelled(cancel)) return interrupted();

  // The load balancer first: its namespace is where Redis is reached from.
  std::vector<std::string> lb_command = {"lb", "--expect", std::to_string(config_.nodes)};
  for (int i = 1; i <= config_.nodes; ++i) lb_command.push_back(address(1, i));
  CgroupLimits lb_limits = config_.redis_limits;
  lb_limits.cpu_quota_us = 0;
  lb_limits.memory_limit_bytes = 0;
  Result<Member> lb = start("lb", address(0, 3), lb_limits,
                            {"--cap-add", "NET_ADMIN", "--sysctl", "net.ipv4.ip_forward=1",
                             "--sysctl", "net.ipv4.conf.all.send_redirects=0", "--sysctl",
                             "net.netfilter.nf_conntrack_udp_timeout=3600", "--sysctl",
                             "net.netfilter.nf_conntrack_udp_timeout_stream=3600"},
                            options_.fogm2m_image, lb_command);
  if (!lb) return lb.error();
  lb_ = std::move(*lb);

  std::vector<std::string> redis_command = {"redis-server",
                                            "--bind",
                                            "0.0.0.0",
                                            "--port",
                                            "6379",
                                            "--protected-mode",
                                            "no",
                                            "--save",
                                            "",
                                            "--appendonly",
                                            config_.redis_appendfsync.empty() ? "no" : "yes",
                                            "--dir",
                                            "/tmp"};
  if (!config_.redis_appendfsync.empty())
    redis_command.insert(redis_command.end(), {"--appendfsync", config_.redis_appendfsync});
  Result<Member> redis =
      start("redis", address(0, 2), config_.redis_limits, {}, options_.redis_image, redis_command);
  if (!redis) return redis.error();
  redis_ = std::move(*redis);
  if (Status s = wait_redis_answers(cancel); !s) return s;
  if (config_.dtls && config_.devices > 0) {
    Result<RedisClient> client = this->redis();
    if (!client) return client.error();
    if (Status s = provision_psks(*client, config_); !s) return s;
  }

  for (int i = 1; i <= config_.nodes; ++i) {
    if (cancelled(cancel)) return interrupted();
    const std::string id = Deployment::node_id(i);
    std::vector<std::string> command = {
        "node", "--id", id, "--bind", address(1, i), "--redis", redis_.address + ":6379"};
    if (!config_.dtls) command.push_back("--no-dtls");
    command.insert(command.end(), config_.node_args.begin(), config_.node_args.end());
    Result<Member> node =
        start(id, address(1, i), config_.node_limits, {}, options_.fogm2m_image, command);
    if (!node) return node.error();
    nodes_.push_back(std::move(*node));
  }
  if (Status s = wait_joined(cancel); !s) return s;
  if (Status s = wait_lb_ready(cancel); !s) return s;
  // The gateway, before the fleets: it sees their registrations as events.
  if (config_.gateway) {
    if (Status s = start_gateway(cancel); !s) return s;
  }

  if (config_.devices == 0) return {};
  const int fleets = std::min(config_.fleets, config_.devices);
  int first = 1;
  for (int j = 1; j <= fleets; ++j) {
    if (cancelled(cancel)) return interrupted();
    const int count = config_.devices / fleets + (j <= config_.devices % fleets ? 1 : 0);
    const std::string fleet = "fleet" + std::to_string(j);
    FleetCommand fc =
        fleet_command(config_, j, first, count,
                      lb_.address + ":" + (config_.dtls ? "5684" : "5683"), address(2, j));
    const std::string stats = fc.stats_path;
    std::vector<std::string> command = std::move(fc.args);
    Result<Member> started = start(fleet, address(2, j), config_.fleet_limits,
                                   {"--volume", config_.work_dir + ":" + config_.work_dir},
                                   options_.fogm2m_image, command);
    if (!started) return started.error();
    started->first_device = first;
    started->devices = count;
    started->stats_path = stats;
    fleets_.push_back(std::move(*started));
    first += count;
  }
  return wait_registered(cancel);
}

Result<Member> ContainerDeployment::start(const std::string& name, const std::string& address,
                                          const CgroupLimits& limits,
                                          std::vector<std::string> engine_args,
                                          const std::string& image,
                                          std::vector<std::string> command) {
  const std::string container = container_name(name);
  std::vector<std::string> args = {
      "run",        "--detach", "--name",  container,
      "--hostname", name,       "--label", std::string(kRunLabel) + "=" + config_.run_id,
      "--network",  network_,   "--ip",    address};
  if (limits.cpu_quota_us > 0)
    args.insert(args.end(), {"--cpu-period", std::to_string(limits.cpu_period_us), "--cpu-quota",
                             std::to_string(limits.cpu_quota_us)});
  if (limits.memory_limit_bytes > 0)
    args.insert(args.end(), {"--memory", std::to_string(limits.memory_limit_bytes) + "b"});
  if (!limits.cpus.empty()) args.insert(args.end(), {"--cpuset-cpus", limits.cpus});
  args.insert(args.end(), engine_args.begin(), engine_args.end());
  args.push_back(image);
  args.insert(args.end(), command.begin(), command.end());
  // Named before it runs: down() removes it whatever happens next.
  started_.push_back(container);
  Result<CommandResult> r = run_engine(args);
  if (!r) return r.error();
  if (r->exit_code != 0)
    return make_error(ErrorKind::kIo, name + ": " + command_error({engine_, "run", container}, *r));
  Result<CommandResult> inspected =
      run_engine({"inspect", "--format", "{{.State.Pid}}", container});
  if (!inspected) return inspected.error();
  const pid_t pid = static_cast<pid_t>(std::atoll(trim_output(inspected->out).c_str()));
  if (inspected->exit_code != 0 || pid <= 0)
    return make_error(ErrorKind::kIo, name + " is not running: " + logs(name));
  Member m;
  m.name = name;
  m.address = address;
  m.netns = "/proc/" + std::to_string(pid) + "/ns/net";
  m.foreign_pid = pid;
  m.argv = std::move(command);
  Result<Cgroup> group = Cgroup::of_process(*cgroup_host_, pid);
  if (!group) return make_error(group.error().kind, name + ": " + group.error().message);
  m.cgroup.emplace(std::move(*group));
  return m;
}

std::string ContainerDeployment::check_running(const Member& member) const {
  if (member.foreign_pid > 0 && ::kill(member.foreign_pid, 0) != 0)
    return member.name + " exited: " + logs(member.name);
  return {};
}

std::string ContainerDeployment::check_running(const std::vector<Member>& members) const {
  for (const auto& m : members) {
    if (std::string why = check_running(m); !why.empty()) return why;
  }
  return {};
}

Status ContainerDeployment::wait_lb_ready(const std::atomic<bool>* cancel) {
  const auto deadline = Clock::now() + config_.ready_timeout;
  for (;;) {
    if (cancelled(cancel)) return interrupted();
    if (logs("lb").find("balancing UDP") != std::string::npos) return {};
    if (std::string why = check_running(lb_); !why.empty()) return make_error(ErrorKind::kIo, why);
    if (Clock::now() > deadline)
      return make_error(ErrorKind::kTimeout, "the load balancer is not ready: " + logs("lb"));
    std::this_thread::sleep_for(kEnginePoll);
  }
}

Status ContainerDeployment::wait_redis_answers(const std::atomic<bool>* cancel) {
  const auto deadline = Clock::now() + config_.ready_timeout;
  for (;;) {
    if (cancelled(cancel)) return interrupted();
    Result<RedisClient> client = redis();
    if (client && client->command({"PING"})) return {};
    if (std::string why = check_running(redis_); !why.empty())
      return make_error(ErrorKind::kIo, why);
    if (Clock::now() > deadline)
      return make_error(ErrorKind::kTimeout, "redis does not answer: " + logs("redis"));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Status ContainerDeployment::wait_joined(const std::atomic<bool>* cancel) {
  const auto deadline = Clock::now() + config_.ready_timeout;
  Result<RedisClient> client = redis();
  if (!client) return client.error();
  for (;;) {
    if (cancelled(cancel)) return interrupted();
    Result<std::vector<std::string>> joined = client->cluster_nodes();
    if (!joined) return joined.error();
    size_t missing = 0;
    for (const auto& n : nodes_) {
      if (std::find(joined->begin(), joined->end(), n.name) == joined->end()) ++missing;
    }
    if (missing == 0) return {};
    if (std::string why = check_running(nodes_); !why.empty())
      return make_error(ErrorKind::kIo, why);
    if (Clock::now() > deadline)
      return make_error(ErrorKind::kTimeout,
                        std::to_string(missing) + " node(s) did not join the cluster in time");
    std::this_thread::sleep_for(kEnginePoll);
  }
}

Status ContainerDeployment::wait_registered(const std::atomic<bool>* cancel) {
  const int fleets = std::min(config_.fleets, config_.devices);
  const int largest = config_.devices / fleets + (config_.devices % fleets != 0 ? 1 : 0);
  const double ramp_s = config_.fleet_ramp_s >= 0
                            ? config_.fleet_ramp_s
                            : static_cast<double>(largest) / kFleetDefaultRegistrationsPerS;
  const auto deadline = Clock::now() + config_.ready_timeout +
                        std::chrono::milliseconds(static_cast<int64_t>(ramp_s * 1000));
  Result<RedisClient> client = redis();
  if (!client) return client.error();
  long long registered = 0;
  for (;;) {
    if (cancelled(cancel)) return interrupted();
    Result<RedisValue> indexed = client->command({"ZCARD", std::string(store::keys::kExpiry)});
    if (!indexed) return indexed.error();
    registered = indexed->integer;
    if (registered >= config_.devices) {
      Result<std::vector<std::string>> keys =
          client->keys(std::string(store::keys::kRegistrationPattern));
      if (!keys) return keys.error();
      if (static_cast<long long>(keys->size()) >= config_.devices) return {};
    }
    if (std::string why = check_running(fleets_); !why.empty())
      return make_error(ErrorKind::kIo, why);
    if (std::string why = check_running(nodes_); !why.empty())
      return make_error(ErrorKind::kIo, why);
    if (Clock::now() > deadline)
      return make_error(ErrorKind::kTimeout, std::to_string(registered) + " of " +
                                                 std::to_string(config_.devices) +
                                                 " devices registered in time");
    std::this_thread::sleep_for(kEnginePoll);
  }
}

Status ContainerDeployment::start_gateway(const std::atomic<bool>* cancel) {
  const std::string token_path = config_.work_dir + "/gateway.token";
  gateway_token_ = random_token();
  if (Status s = write_private_file(token_path, gateway_token_ + "\n"); !s) return s;
  std::vector<std::string> command = {"gateway",
                                      "--redis",
                                      redis_.address + ":6379",
                                      "--bind",
                                      address(0, 4),
                                      "--http-port",
                                      std::to_string(config_.gateway_port),
                                      "--token-file",
                                      token_path,
                                      "--log-level",
                                      "warn"};
  command.insert(command.end(), config_.gateway_args.begin(), config_.gateway_args.end());
  Result<Member> gateway = start("gateway", address(0, 4), config_.gateway_limits,
                                 {"--volume", config_.work_dir + ":" + config_.work_dir + ":ro"},
                                 options_.fogm2m_image, command);
  if (!gateway) return gateway.error();
  gateway_ = std::move(*gateway);
  // It listens once it has Redis and the registrations.
  const auto deadline = Clock::now() + config_.ready_timeout;
  for (;;) {
    if (cancelled(cancel)) return interrupted();
    if (accepts_connections(lb_.netns, gateway_.address, config_.gateway_port)) return {};
    if (std::string why = check_running(gateway_); !why.empty())
      return make_error(ErrorKind::kIo, why);
    if (Clock::now() > deadline)
      return make_error(ErrorKind::kTimeout,
                        "the gateway does not accept connections: " + logs("gateway"));
    std::this_thread::sleep_for(kEnginePoll);
  }
}

Result<RedisClient> ContainerDeployment::redis() const {
  if (redis_.address.empty() || lb_.netns.empty())
    return make_error(ErrorKind::kInvalidArgument, "no Redis deployed");
  return RedisClient::connect(lb_.netns, redis_.address, 6379);
}

Status ContainerDeployment::down() {
  Status result;
  // Every container labelled with the run (also one whose `run` failed
  // half-way), fleets first, then the network.
  if (!started_.empty() || !network_.empty()) {
    std::vector<std::string> environment;
    result = remove_labelled(environment, engine_, config_.run_id, network_, nullptr);
  }
  started_.clear();
  fleets_.clear();
  nodes_.clear();
  redis_ = Member{};
  lb_ = Member{};
  gateway_ = Member{};
  network_.clear();
  if (!gateway_token_.empty()) {
    std::error_code ec;
    std::filesystem::remove(config_.work_dir + "/gateway.token", ec);
    gateway_token_.clear();
  }
  if (record_written_ && result) {
    ::unlink(run_containers_path(config_.run_id).c_str());
    record_written_ = false;
  }
  if (lock_) {
    if (auto restored = restore_host_sysctls(config_.run_id); !restored && result)
      result = restored.error();
  }
  lock_.reset();
  return result;
}

ContainerDeployment::~ContainerDeployment() {
  (void)down();
}

}  // namespace fogm2m::testbed
