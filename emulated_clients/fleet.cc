#include "emulated_clients/fleet.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "emulated_clients/anyip_device_group.h"
#include "emulated_clients/dtls_device.h"
#include "emulated_clients/name_pattern.h"

namespace fogm2m::emulated {

namespace asio = boost::asio;

namespace {

// Descriptors a fleet process needs besides its devices' sockets (epoll,
// eventfds, timers, stdio, log and stats files).
constexpr uint64_t kReservedDescriptors = 64;

uint64_t mix_seed(uint64_t seed, uint64_t index) {  // splitmix64 of both
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (index + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return z == 0 ? 1 : z;
}

FleetStats& operator+=(FleetStats& sum, const FleetStats& s) {
  sum.devices += s.devices;
  sum.started += s.started;
  sum.registered += s.registered;
  sum.registrations += s.registrations;
  sum.updates += s.updates;
  sum.notifications_sent += s.notifications_sent;
  sum.requests_answered += s.requests_answered;
  sum.error_responses += s.error_responses;
  sum.retransmissions += s.retransmissions;
  sum.timeouts += s.timeouts;
  sum.errors += s.errors;
  sum.datagrams_in += s.datagrams_in;
  sum.datagrams_out += s.datagrams_out;
  sum.sends += s.sends;
  sum.send_errors += s.send_errors;
  sum.dropped_asleep += s.dropped_asleep;
  sum.sessions_abandoned += s.sessions_abandoned;
  sum.rebinds += s.rebinds;
  return sum;
}

struct Patterns {
  NamePattern endpoint;
  std::optional<NamePattern> psk_identity;
  std::optional<NamePattern> psk_key;
};

Result<Patterns> parse_patterns(const FleetConfig& c) {
  auto ep = NamePattern::parse(c.endpoint_pattern, false);
  if (!ep) return ep.error();
  Patterns p{std::move(*ep), {}, {}};
  if (!c.psk_identity_pattern.empty()) {
    auto id = NamePattern::parse(c.psk_identity_pattern);
    if (!id) return id.error();
    auto key = NamePattern::parse(c.psk_key_pattern);
    if (!key) return key.error();
    p.psk_identity = std::move(*id);
    p.psk_key = std::move(*key);
  }
  return p;
}

}  // namespace

Status validate(const FleetConfig& c) {
  auto patterns = parse_patterns(c);
  if (!patterns) return patterns.error();
  if (c.devices == 0)
    return make_error(ErrorKind::kInvalidArgument, "a fleet needs at least one device");
  if (c.devices > 1 && !patterns->endpoint.varies())
    return make_error(ErrorKind::kInvalidArgument,
                      "endpoint pattern \"" + c.endpoint_pattern +
                          "\" gives every device the same name: use {n}");
  if (c.threads == 0)
    return make_error(ErrorKind::kInvalidArgument, "a fleet needs at least one thread");
  if (c.server.port() == 0)
    return make_error(ErrorKind::kInvalidArgument, "server port must not be 0");
  if (c.device.lifetime_s == 0)
    return make_error(ErrorKind::kInvalidArgument, "lifetime must be positive");
  if (c.ramp.count() < 0)
    return make_error(ErrorKind::kInvalidArgument, "ramp must not be negative");
  if (c.source_range) {
    if (patterns->psk_identity)
      return make_error(ErrorKind::kInvalidArgument,
                        "DTLS devices need a socket each: a source range is for plain CoAP");
    if (c.source_range->network.is_v4() != c.server.address().is_v4())
      return make_error(ErrorKind::kInvalidArgument,
                        "source range " + c.source_range->to_string() +
                            " and the server must be of one IP family");
    if (c.source_range->size() < uint64_t{c.devices} + 2)
      return make_error(ErrorKind::kInvalidArgument, "source range " + c.source_range->to_string() +
                                                         " has too few addresses for " +
                                                         std::to_string(c.devices) + " devices");
  }
  if (patterns->psk_identity) {
    if (c.psk_key_pattern.empty())
      return make_error(ErrorKind::kInvalidArgument, "a PSK identity pattern needs a key pattern");
    if (patterns->psk_key->format(c.first + c.devices - 1, "x").size() > 64)
      return make_error(ErrorKind::kInvalidArgument,
                        "PSK keys longer than 64 bytes are not supported");
  }
  return {};
}

// The devices of one thread and that thread's event loop: plain CoAP devices
// on their own sockets or sharing one (group), or DTLS devices sharing the
// thread's libcoap context.
struct Fleet::Shard {
  Shard(const FleetConfig& c, unsigned shard_index)
      : config(c), index(shard_index), ramp_timer(io), stats_timer(io), stop_timer(io) {}
  ~Shard() {
    group.reset();
    udp.clear();
    dtls.clear();  // before their context
    dtls_context.reset();
  }

  const FleetConfig& config;
  const unsigned index;
  asio::io_context io;
  std::unique_ptr<DtlsClientContext> dtls_context;
  std::vector<std::unique_ptr<UdpDevice>> udp;
  std::vector<std::unique_ptr<DtlsDevice>> dtls;
  std::unique_ptr<AnyIpDeviceGroup> group;  // with a source range: all of the shard's devices
  std::vector<uint32_t> fleet_index;        // fleet-wide index of the k-th device
  size_t next_to_start = 0;
  asio::steady_timer ramp_timer, stats_timer, stop_timer;
  std::chrono::steady_clock::time_point t0;
  mutable std::mutex published_mutex;  // published is read by stats() from any thread
  FleetStats published;
  uint64_t socket_errors = 0;
  uint64_t rebinds = 0;
  bool stopping = false;
  std::thread thread;

  size_t size() const { return udp.size() + dtls.size() + (group ? group->size() : 0); }
  // Calls f(device) for every device of the shard (UdpDevice or DtlsDevice).
  template <class F>
  void for_each(F&& f) {
    for (auto& d : udp) f(*d);
    for (auto& d : dtls) f(*d);
  }
  void rebind_all() {
    if (stopping) return;
    for_each([&](auto& d) {
      if (d.running() && !d.stopping() && d.rebind().ok()) ++rebinds;
    });
  }
  // Starts the k-th device; false when it could not.
  bool start_device(size_t k) {
    if (group) {
      group->start(k);
      return group->running(k);
    }
    if (k < udp.size()) return static_cast<bool>(udp[k]->start());
    return static_cast<bool>(dtls[k - udp.size()]->start());
  }

  void run() {
    t0 = std::chrono::steady_clock::now();
    start_due();
    publish_periodically();
    io.run();
    publish();
  }

  std::chrono::steady_clock::time_point start_time(size_t k) const {
    if (config.ramp.count() == 0 || config.devices <= 1) return t0;
    const auto offset =
        config.ramp * static_cast<int64_t>(fleet_index[k]) / static_cast<int64_t>(config.devices);
    return t0 + offset;
  }

  void start_due() {
    if (stopping) return;
    const auto now = std::chrono::steady_clock::now();
    while (next_to_start < size() && start_time(next_to_start) <= now) {
      if (!start_device(next_to_start)) ++socket_errors;
      ++next_to_start;
    }
    if (next_to_start == size()) return;
    ramp_timer.expires_at(start_time(next_to_start));
    ramp_timer.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) start_due();
    });
  }

  // Adds one device's counters (t: UdpDeviceStats or DtlsDeviceStats).
  template <class TransportStats>
  static void add(FleetStats& s, bool running, const Device& device, const TransportStats& t) {
    const DeviceCounters& c = device.counters();
    s.registered += running && device.registered();
    s.registrations += c.registrations;
    s.updates += c.updates;
    s.notifications_sent += c.notifications_sent;
    s.requests_answered += c.requests_answered;
    s.error_responses += c.error_responses;
    s.errors += c.errors;
    s.sends += c.sends;
    s.send_errors += c.send_errors;
    s.dropped_asleep += c.dropped_asleep;
    s.retransmissions += t.retransmissions;
    s.timeouts += t.timeouts;
    s.datagrams_in += t.datagrams_in;
    s.datagrams_out += t.datagrams_out;
    if constexpr (std::is_same_v<TransportStats, UdpDeviceStats>)
      s.errors += t.malformed;
    else {
      s.errors += t.handshake_failures;
      s.sessions_abandoned += t.sessions_abandoned;
    }
  }

  void publish() {
    FleetStats s;
    s.devices = size();
    s.started = next_to_start;
    s.errors = socket_errors;
    s.rebinds = rebinds;
    for_each([&](auto& d) { add(s, d.running(), d.device(), d.stats()); });
    if (group) {
      for (size_t k = 0; k < group->size(); ++k)
        add(s, group->running(k), group->device(k), group->stats(k));
      s.errors += group->stray_datagrams();
    }
    std::lock_guard lock(published_mutex);
    published = s;
  }

  void publish_periodically() {
    publish();
    stats_timer.expires_after(config.stats_period);
    stats_timer.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) publish_periodically();
    });
  }

  // On the shard's thread: de-register everything, then let run() return.
  void begin_stop() {
    stopping = true;
    ramp_timer.cancel();
    auto pending = std::make_shared<size_t>(0);
    for_each([&](auto& d) { *pending += d.running(); });
    if (group) ++*pending;
    auto finish = [this] {
      stats_timer.cancel();
      stop_timer.cancel();
      io.stop();
    };
    if (*pending == 0) {
      finish();
      return;
    }
    stop_timer.expires_after(config.stop_timeout);
    stop_timer.async_wait([finish](const boost::system::error_code& ec) {
      if (!ec) finish();
    });
    auto one_done = [pending, finish] {
      if (--*pending == 0) finish();
    };
    for_each([&](auto& d) {
      if (d.running()) d.stop(one_done);
    });
    if (group) group->stop(one_done);
  }
};

Fleet::Fleet(FleetConfig config) : config_(std::move(config)) {}

Fleet::~Fleet() {
  stop();
}

std::string Fleet::endpoint(uint32_t i) const {
  auto patterns = parse_patterns(config_);
  return patterns ? patterns->endpoint.format(config_.first + i) : std::string();
}

Status Fleet::start() {
  if (running_) return make_error(ErrorKind::kInvalidArgument, "fleet already running");
  if (Status ok = validate(config_); !ok) return ok;
  shards_.clear();
  auto patterns = parse_patterns(config_);

  const bool secure = patterns->psk_identity.has_value();
  const unsigned threads = std::min<unsigned>(config_.threads, config_.devices);
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
    const uint64_t sockets = config_.source_range ? threads : config_.devices;
    const uint64_t needed = sockets + kReservedDescriptors;
    if (files.rlim_cur < needed && files.rlim_cur < files.rlim_max) {
      files.rlim_cur = std::min<rlim_t>(files.rlim_max, needed);
      setrlimit(RLIMIT_NOFILE, &files);
    }
    const bool short_of_files = files.rlim_cur != RLIM_INFINITY && files.rlim_cur < needed;
    const bool loopback_v4 = config_.server.address().is_v4() &&
                             config_.server.address().is_loopback() && !config_.bind_address;
    if (short_of_files && !config_.source_range && !secure && loopback_v4) {
      config_.source_range = io::AddressRange::parse("127.64.0.0/10").value();
      if (Status ok = validate(config_); !ok) return ok;
    } else if (short_of_files) {
      return make_error(
          ErrorKind::kIo,
          std::to_string(config_.devices) + " devices need " + std::to_string(needed) +
              " file descriptors (one socket each) but the limit is " +
              std::to_string(files.rlim_cur) +
              ": let plain-CoAP devices share sockets (--source-range), split them over several "
              "fleet processes, or raise the hard limit (ulimit -Hn)");
    }
  }

  auto device_config = std::make_shared<const DeviceConfig>(config_.device);
  for (unsigned t = 0; t < threads; ++t) {
    shards_.push_back(std::make_unique<Shard>(config_, t));
    if (secure) {
      auto context = DtlsClientContext::create(shards_.back()->io);
      if (!context) return context.error();
      shards_.back()->dtls_context = std::move(*context);
    }
  }
  // Sharing sockets, shard t holds a contiguous block of devices, so that
  // its devices' addresses are contiguous too (device i: address i + 1 of
  // the range); otherwise device i lives on shard i mod threads.
  auto shard_of = [&](uint32_t i) -> unsigned {
    if (!config_.source_range) return i % threads;
    return static_cast<unsigned>(uint64_t{i} * threads / config_.devices);
  };
  if (config_.source_range) {
    for (unsigned t = 0; t < threads; ++t) {
      const uint64_t first = (uint64_t{t} * config_.devices + threads - 1) / threads;
      AnyIpDeviceGroupOptions options;
      static_cast<DeviceMessageOptions&>(options) = config_.udp;
      options.first_address = config_.source_range->at(first + 1);
      options.register_on_start = config_.udp.register_on_start;
      shards_[t]->group =
          std::make_unique<AnyIpDeviceGroup>(shards_[t]->io, config_.server, std::move(options));
      const uint64_t next = (uint64_t{t + 1} * config_.devices + threads - 1) / threads;
      shards_[t]->group->reserve(next - first);
    }
  }
  for (uint32_t i = 0; i < config_.devices; ++i) {
    Shard& shard = *shards_[shard_of(i)];
    const uint64_t n = config_.first + i;
    DeviceIdentity identity;
    identity.endpoint = patterns->endpoint.format(n);
    identity.seed = mix_seed(config_.seed, n);
    if (patterns->psk_identity) {
      identity.psk_identity = patterns->psk_identity->format(n, identity.endpoint);
      identity.psk_key = patterns->psk_key->format(n, identity.endpoint);
    }
    const uint64_t transport_seed = mix_seed(identity.seed, 0x5eed);
    if (shard.group) {
      shard.group->add(Device(device_config, std::move(identity)), transport_seed);
    } else if (secure) {
      DtlsDeviceOptions options;
      options.bind_address = config_.bind_address;
      options.seed = transport_seed;
      options.transmission = config_.udp.transmission;
      shard.dtls.push_back(std::make_unique<DtlsDevice>(*shard.dtls_context, config_.server,
                                                        Device(device_config, std::move(identity)),
                                                        options));
    } else {
      UdpDeviceOptions options = config_.udp;
      if (config_.bind_address) options.bind_address = config_.bind_address;
      options.seed = transport_seed;
      shard.udp.push_back(std::make_unique<UdpDevice>(
          shard.io, config_.server, Device(device_config, std::move(identity)), options));
    }
    shard.fleet_index.push_back(i);
  }
  for (auto& shard : shards_) {
    if (!shard->group) continue;
    if (Status opened = shard->group->open(); !opened) {
      shards_.clear();
      return opened;
    }
  }
  for (auto& shard : shards_) {
    Shard* s = shard.get();
    s->thread = std::thread([s] { s->run(); });
  }
  running_ = true;
  return {};
}

void Fleet::stop() {
  if (!running_) return;
  running_ = false;
  for (auto& shard : shards_) {
    Shard* s = shard.get();
    asio::post(s->io, [s] { s->begin_stop(); });
  }
  for (auto& shard : shards_)
    if (shard->thread.joinable()) shard->thread.join();
  // The threads are gone: destroying the devices here cannot race a handler.
  final_stats_ = stats();
  shards_.clear();
}

void Fleet::rebind() {
  if (!running_) return;
  if (shares_sockets()) spdlog::warn("fleet: rebind: devices sharing sockets keep their addresses");
  for (auto& shard : shards_) {
    Shard* s = shard.get();
    asio::post(s->io, [s] { s->rebind_all(); });
  }
}

FleetStats Fleet::stats() const {
  if (shards_.empty()) return final_stats_;
  FleetStats sum;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->published_mutex);
    sum += shard->published;
  }
  return sum;
}

std::string to_json(const FleetStats& s) {
  boost::json::object o;
  o["devices"] = s.devices;
  o["started"] = s.started;
  o["registered"] = s.registered;
  o["registrations"] = s.registrations;
  o["updates"] = s.updates;
  o["notifications_sent"] = s.notifications_sent;
  o["requests_answered"] = s.requests_answered;
  o["error_responses"] = s.error_responses;
  o["retransmissions"] = s.retransmissions;
  o["timeouts"] = s.timeouts;
  o["errors"] = s.errors;
  o["datagrams_in"] = s.datagrams_in;
  o["datagrams_out"] = s.datagrams_out;
  o["sends"] = s.sends;
  o["send_errors"] = s.send_errors;
  o["dropped_asleep"] = s.dropped_asleep;
  o["sessions_abandoned"] = s.sessions_abandoned;
  o["rebinds"] = s.rebinds;
  return boost::json::serialize(o);
}

}  // namespace fogm2m::emulated
