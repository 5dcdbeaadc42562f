#include "tests/cluster/cluster_harness.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <boost/asio/post.hpp>
#include <cstdio>

#include "bus/request.h"

namespace fogm2m::test {

ClusterHarness::ClusterHarness(HarnessOptions options)
    : options_(options),
      work_(boost::asio::make_work_guard(io_)),
      models_(lwm2m::ModelRegistry::builtin()) {}

ClusterHarness::~ClusterHarness() {
  if (thread_.joinable()) {
    on_io([this] {
      for (auto& u : udp_) u->stop();
      for (auto& d : dtls_) d->stop();
    });
    for (auto& n : nodes_) {
      std::promise<void> stopped;
      on_io([&] { n->stop([&] { stopped.set_value(); }, std::chrono::milliseconds(500)); });
      stopped.get_future().wait_for(std::chrono::seconds(5));
    }
    on_io([this] {
      if (observer_) observer_->disconnect();
      if (commands_) commands_->disconnect();
      if (cluster_client_) cluster_client_->disconnect();
    });
    work_.reset();
    io_.stop();
    thread_.join();
  }
  nodes_.clear();
  udp_.clear();
  dtls_.clear();
  observer_.reset();
  commands_.reset();
  cluster_client_.reset();
  if (redis_server_) (void)redis_server_->stop();
}

void ClusterHarness::on_io(const std::function<void()>& fn) {
  if (!thread_.joinable()) return fn();
  std::promise<void> done;
  boost::asio::post(io_, [&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

void ClusterHarness::record(std::string_view channel, std::string_view message) {
  std::lock_guard lock(mu_);
  seen_[std::string(channel)].emplace_back(message);
  cv_.notify_all();
}

bool ClusterHarness::start() {
  if (options_.redis && !clustered()) {
    RedisServerOptions redis_options;
    redis_options.extra_args = options_.redis_args;
    auto server = RedisServer::start(redis_options);
    if (!server) {
      error_ = server.error().message;
      return false;
    }
    redis_server_ = std::move(*server);
  }
  thread_ = std::thread([this] { io_.run(); });

  auto started = std::make_shared<std::promise<std::string>>();
  on_io([this, started] {
    auto remaining = std::make_shared<int>(
        !options_.redis ? 1 : (clustered() ? options_.nodes + 1 : options_.nodes + 2));
    auto failure = std::make_shared<std::string>();
    auto one_done = [started, remaining, failure](Status s) {
      if (!s && failure->empty()) *failure = s.error().message;
      if (--*remaining == 0) started->set_value(*failure);
    };
    const bus::Channels channels;
    for (int i = 0; i < (options_.redis ? options_.nodes : 1); ++i) {
      server::NodeOptions o;
      o.node_id = "node-" + std::to_string(i + 1);
      if (options_.redis && clustered()) {
        for (size_t k = 0; k < options_.redis_cluster->size(); ++k)
          o.redis_cluster.push_back(options_.redis_cluster->address(k));
      } else if (options_.redis) {
        o.redis_host = redis_server_->host();
        o.redis_port = redis_server_->port();
      }
      o.device_timeout = options_.device_timeout;
      o.awake_time = options_.awake_time;
      o.max_queued_per_device = options_.max_queued_per_device;
      o.sweep_interval = options_.sweep_interval;
      o.expiry_grace_ms = options_.expiry_grace_ms;
      auto node = std::make_unique<server::Node>(io_, o, models_);
      server::UdpTransportOptions uo;
      uo.bind_address = "127.0.0.1";
      uo.port = 0;
      uo.transmission.ack_timeout = std::chrono::milliseconds(500);
      auto udp = std::make_unique<server::UdpTransport>(io_, uo);
      node->attach(*udp);
      if (options_.dtls) {
        server::DtlsTransportOptions dopt;
        dopt.address = "127.0.0.1";
        dopt.port = 0;
        server::Node* n = node.get();
        dopt.psk_lookup = [n](std::string_view identity) -> std::optional<std::string> {
          auto info = n->psk_cache().find(identity);
          return info ? std::optional<std::string>(info->key) : std::nullopt;
        };
        auto dtls = std::make_unique<server::DtlsTransport>(io_, dopt);
        node->attach(*dtls);
        dtls_.push_back(std::move(dtls));
      }
      server::UdpTransport* u = udp.get();
      server::DtlsTransport* d = options_.dtls ? dtls_.back().get() : nullptr;
      server::Node* n = node.get();
      const bool memory = !options_.redis;
      n->start([this, one_done, u, d, n, memory, channels](Status s) {
        if (s) s = u->start();
        if (s && d) s = d->start();
        if (s && memory) {
          n->bus().subscribe(
              {channels.responses, channels.registration_new, channels.registration_update,
               channels.registration_delete, channels.events},
              [this](std::string_view c, std::string_view m) { record(c, m); }, nullptr);
        }
        one_done(s);
      });
      udp_.push_back(std::move(udp));
      nodes_.push_back(std::move(node));
    }
    if (!options_.redis) return;
    if (clustered()) {
      io::RedisClusterOptions co;
      for (size_t k = 0; k < options_.redis_cluster->size(); ++k)
        co.seeds.push_back(options_.redis_cluster->address(k));
      cluster_client_ = std::make_unique<io::ClusterRedis>(io_, std::move(co));
      cluster_client_->set_message_handler(
          [this](std::string_view c, std::string_view m) { record(c, m); });
      cluster_client_->start([this, one_done, channels](Status s) {
        if (!s) return one_done(s);
        cluster_client_->subscribe(
            {channels.responses, channels.registration_new, channels.registration_update,
             channels.registration_delete, channels.events},
            one_done);
      });
      return;
    }
    // Links, like the nodes': they come back after a Redis restart.
    const auto link = io::RedisLinkOptions::at(redis_server_->host(), redis_server_->port());
    observer_ = std::make_unique<io::RedisLink>(io_, link);
    commands_ = std::make_unique<io::RedisLink>(io_, link);
    observer_->set_message_handler(
        [this](std::string_view c, std::string_view m) { record(c, m); });
    observer_->start([this, one_done, channels](Status s) {
      if (!s) return one_done(s);
      observer_->subscribe(
          {channels.responses, channels.registration_new, channels.registration_update,
           channels.registration_delete, channels.events},
          one_done);
    });
    commands_->start(one_done);
  });
  auto f = started->get_future();
  if (f.wait_for(std::chrono::seconds(15)) != std::future_status::ready) {
    error_ = "cluster did not start within 15 s";
    return false;
  }
  error_ = f.get();
  return error_.empty();
}

void ClusterHarness::publish(const std::string& channel, const std::string& message) {
  on_io([&] {
    if (cluster_client_)
      cluster_client_->publish(channel, message, [](Result<io::RedisReply>) {});
    else if (commands_)
      commands_->command({"PUBLISH", channel, message}, {});
    else
      nodes_[0]->bus().publish(channel, message);
  });
}

std::string ClusterHarness::request(const std::string& json_request, const std::string& ticket,
                                    std::chrono::milliseconds timeout) {
  publish("LWM2M_REQ", json_request);
  std::string found;
  wait_for(
      "LWM2M_RESP",
      [&](const std::vector<std::string>& msgs) {
        for (const auto& m : msgs) {
          auto r = bus::parse_reply(m);
          if (r && r->ticket == ticket && r->type != bus::ReplyType::kAck) {
            found = m;
            return true;
          }
        }
        return false;
      },
      timeout);
  return found;
}

std::vector<std::string> ClusterHarness::seen(const std::string& channel) {
  std::lock_guard lock(mu_);
  return seen_[channel];
}

bool ClusterHarness::wait_for(const std::string& channel,
                              const std::function<bool(const std::vector<std::string>&)>& pred,
                              std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return pred(seen_[channel]); });
}

bool ClusterHarness::redis_up(int node) {
  bool up = false;
  on_io([&] { up = nodes_[node]->redis_up(); });
  return up;
}

bool ClusterHarness::wait_for_redis(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    bool up = false;
    on_io([&] {
      up =
          cluster_client_ ? cluster_client_->up() : commands_ && commands_->up() && observer_->up();
    });
    if (up) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

Result<io::RedisReply> ClusterHarness::redis(std::vector<std::string> argv) {
  // Shared with the callback, which may run after a timeout returned.
  auto reply = std::make_shared<std::promise<Result<io::RedisReply>>>();
  on_io([&] {
    auto done = [reply](Result<io::RedisReply> r) { reply->set_value(std::move(r)); };
    if (cluster_client_)
      cluster_client_->command(argv, std::move(done));
    else
      commands_->command(argv, std::move(done));
  });
  auto f = reply->get_future();
  if (f.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
    return make_error(ErrorKind::kTimeout, "redis: no reply");
  return f.get();
}

RedisCluster* shared_redis_cluster(std::string& error) {
  static Result<std::unique_ptr<RedisCluster>> cluster = RedisCluster::start();
  if (!cluster) {
    error = cluster.error().message;
    return nullptr;
  }
  RedisCluster* c = cluster->get();
  auto masters = c->masters();
  if (!masters) {
    error = masters.error().message;
    return nullptr;
  }
  for (size_t m : *masters) {
    auto flushed = c->command(m, {"FLUSHALL"});
    if (!flushed) {
      error = flushed.error().message;
      return nullptr;
    }
  }
  return c;
}

CommandResult run_command(const std::string& command_line) {
  CommandResult result;
  FILE* p = ::popen((command_line + " 2>&1").c_str(), "r");
  if (!p) return result;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) result.output.append(buf, n);
  const int status = ::pclose(p);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

Reply ask(ClusterHarness& h, const std::string& ep, const std::string& req_json) {
  static int n = 0;
  const std::string ticket = "t-" + std::to_string(++n);
  const std::string msg =
      R"({"ep":")" + ep + R"(","ticket":")" + ticket + R"(","req":)" + req_json + "}";
  const std::string raw = h.request(msg, ticket);
  EXPECT_FALSE(raw.empty()) << "no reply to " << msg;
  Reply r;
  if (raw.empty()) return r;
  auto parsed = bus::parse_reply(raw);
  EXPECT_TRUE(parsed.ok());
  r.ok = parsed->type == bus::ReplyType::kRep;
  r.body = parsed->body;
  return r;
}

std::string reply_code(const Reply& r) {
  return r.ok ? std::string(r.body.at("code").as_string()) : "ERR";
}

std::string reply_error(const Reply& r) {
  return r.ok ? "" : std::string(r.body.at("errorMessage").as_string());
}

bool seen_endpoint(ClusterHarness& h, const std::string& channel, const std::string& ep,
                   std::chrono::milliseconds wait) {
  const std::string needle = "\"ep\":\"" + ep + "\"";
  return h.wait_for(
      channel,
      [&](const std::vector<std::string>& messages) {
        for (const auto& m : messages)
          if (m.find(needle) != std::string::npos) return true;
        return false;
      },
      wait);
}

size_t count_notifications(const std::vector<std::string>& messages) {
  size_t n = 0;
  for (const auto& m : messages)
    if (m.find("\"notification\":true") != std::string::npos) ++n;
  return n;
}

}  // namespace fogm2m::test
