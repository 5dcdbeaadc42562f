// The collector of a run; see sampler.h.
#include "testbed/sampler.h"

#include <algorithm>
#include <cstdio>
#include <fstream>

namespace fogm2m::testbed {
namespace {

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Sum of the increases of a cumulative counter over consecutive samples. A
// drop to below half the previous value means the counter restarted from
// zero (a new process or namespace) and counts from there; a smaller drop is
// read jitter and counts nothing: cgroup v1 cpuacct.usage sums per-CPU
// counters read one after the other and can come back a few microseconds
// lower than a read a moment before, which once counted as a restart added
// the group's whole lifetime CPU to a window.
template <class Get>
double counter_delta(const std::vector<const TargetSample*>& samples, Get get) {
  double total = 0;
  for (size_t i = 1; i < samples.size(); ++i) {
    double a = get(*samples[i - 1]);
    double b = get(*samples[i]);
    if (b >= a) {
      total += b - a;
    } else if (b < a / 2) {
      total += b;
    }
  }
  return total;
}

void append_number(std::string& row, double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, ",%.6f", v);
  row += buf;
}

void append_number(std::string& row, uint64_t v) {
  row += "," + std::to_string(v);
}

}  // namespace

Sampler::Sampler(std::chrono::milliseconds interval, std::string host_proc_root)
    : interval_(interval.count() > 0 ? interval : std::chrono::milliseconds(1)),
      host_proc_root_(std::move(host_proc_root)),
      origin_(SamplerClock::now()) {}

Sampler::~Sampler() {
  stop();
}

Status Sampler::add_target(SamplerTarget target) {
  if (target.name.empty())
    return make_error(ErrorKind::kInvalidArgument, "sampler target without a name");
  if (!target.cgroup && target.net_pid <= 0 && target.process_pid <= 0) {
    return make_error(ErrorKind::kInvalidArgument,
                      "sampler target " + target.name + " has nothing to sample");
  }
  std::lock_guard lock(mutex_);
  if (find_active(target.name) != nullptr) {
    return make_error(ErrorKind::kInvalidArgument,
                      "sampler target " + target.name + " already exists");
  }
  series_.push_back(Series{std::move(target), true, {}, {}});
  return {};
}

Status Sampler::remove_target(const std::string& name) {
  std::lock_guard lock(mutex_);
  Series* s = find_active(name);
  if (s == nullptr) return make_error(ErrorKind::kNotFound, "no sampler target " + name);
  s->active = false;
  return {};
}

void Sampler::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Sampler::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool Sampler::running() const {
  std::lock_guard lock(mutex_);
  return thread_.joinable() && !stopping_;
}

void Sampler::run() {
  auto next = SamplerClock::now();
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    sample_all(SamplerClock::now());
    lock.lock();
    next += interval_;
    // After a stall (suspend, overload) skip the missed ticks rather than burst.
    if (next < SamplerClock::now()) next = SamplerClock::now() + interval_;
    wake_.wait_until(lock, next, [this] { return stopping_; });
  }
}

SamplerClock::time_point Sampler::sample_now() {
  auto at = SamplerClock::now();
  sample_all(at);
  return at;
}

void Sampler::sample_all(SamplerClock::time_point at) {
  // Copy the targets, read the files without holding the lock (reads may
  // take milliseconds), then append. series_ only grows, so indices hold.
  std::vector<std::pair<size_t, SamplerTarget>> targets;
  {
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < series_.size(); ++i) {
      if (series_[i].active) targets.emplace_back(i, series_[i].target);
    }
  }
  const double unix_s = unix_now();
  std::vector<std::pair<TargetSample, std::vector<std::string>>> taken;
  for (const auto& [index, target] : targets) {
    TargetSample sample;
    sample.at = at;
    sample.unix_s = unix_s;
    std::vector<std::string> failures;
    if (target.cgroup) {
      if (auto r = target.cgroup->sample(); r) {
        sample.cgroup = *r;
      } else {
        failures.push_back(r.error().message);
      }
    }
    if (target.net_pid > 0) {
      if (auto r = read_net_dev(target.net_pid, target.proc_root); r) {
        sample.net = *r;
      } else {
        failures.push_back(r.error().message);
      }
    }
    if (target.process_pid > 0) {
      if (auto r = read_process_usage(target.process_pid, target.proc_root); r) {
        sample.process = *r;
      } else {
        failures.push_back(r.error().message);
      }
    }
    taken.emplace_back(std::move(sample), std::move(failures));
  }
  HostSample host;
  host.at = at;
  host.unix_s = unix_s;
  if (auto ticks = read_host_cpu_ticks(host_proc_root_); ticks) host.ticks = *ticks;
  host.speed_probe_us = run_speed_probe_us();
  std::lock_guard lock(mutex_);
  host_.insert(
      std::upper_bound(host_.begin(), host_.end(), at,
                       [](SamplerClock::time_point t, const HostSample& x) { return t < x.at; }),
      std::move(host));
  for (size_t k = 0; k < targets.size(); ++k) {
    Series& s = series_[targets[k].first];
    auto& [sample, failures] = taken[k];
    for (auto& f : failures) {
      ++s.errors.count;
      s.errors.last = std::move(f);
    }
    if (sample.cgroup || sample.net || sample.process) {
      // sample_now() and the thread may race; keep the series in time order.
      auto pos = std::upper_bound(
          s.samples.begin(), s.samples.end(), sample.at,
          [](SamplerClock::time_point t, const TargetSample& x) { return t < x.at; });
      s.samples.insert(pos, std::move(sample));
    }
  }
}

Sampler::Series* Sampler::find_active(const std::string& name) {
  for (auto& s : series_) {
    if (s.active && s.target.name == name) return &s;
  }
  return nullptr;
}

const Sampler::Series* Sampler::find_latest(const std::string& name) const {
  for (auto it = series_.rbegin(); it != series_.rend(); ++it) {
    if (it->target.name == name) return &*it;
  }
  return nullptr;
}

std::vector<std::string> Sampler::target_names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const auto& s : series_) {
    if (std::find(names.begin(), names.end(), s.target.name) == names.end())
      names.push_back(s.target.name);
  }
  return names;
}

std::vector<TargetSample> Sampler::series(const std::string& name) const {
  std::lock_guard lock(mutex_);
  const Series* s = find_latest(name);
  return s == nullptr ? std::vector<TargetSample>{} : s->samples;
}

TargetErrors Sampler::errors(const std::string& name) const {
  std::lock_guard lock(mutex_);
  const Series* s = find_latest(name);
  return s == nullptr ? TargetErrors{} : s->errors;
}

Result<TargetSummary> Sampler::summarize(const std::string& name, SamplerClock::time_point start,
                                         SamplerClock::time_point end) const {
  std::vector<TargetSample> all = series(name);
  std::vector<const TargetSample*> in;
  for (const auto& s : all) {
    if (s.at >= start && s.at <= end) in.push_back(&s);
  }
  if (in.size() < 2) {
    return make_error(ErrorKind::kNotFound, "sampler target " + name + " has " +
                                                std::to_string(in.size()) +
                                                " sample(s) in the window, needs two");
  }
  TargetSummary sum;
  sum.name = name;
  sum.samples = in.size();
  sum.window_s = std::chrono::duration<double>(in.back()->at - in.front()->at).count();

  std::vector<const TargetSample*> cg, net, proc;
  for (const TargetSample* s : in) {
    if (s->cgroup) cg.push_back(s);
    if (s->net) net.push_back(s);
    if (s->process) proc.push_back(s);
  }
  sum.has_cgroup = !cg.empty();
  sum.has_net = !net.empty();
  sum.has_process = !proc.empty();

  if (!cg.empty()) {
    sum.nr_periods =
        counter_delta(cg, [](const TargetSample& s) { return double(s.cgroup->nr_periods); });
    sum.nr_throttled =
        counter_delta(cg, [](const TargetSample& s) { return double(s.cgroup->nr_throttled); });
    sum.throttled_s =
        counter_delta(cg, [](const TargetSample& s) { return s.cgroup->throttled_s; });
    sum.cpu_s = counter_delta(cg, [](const TargetSample& s) { return s.cgroup->cpu_s; });
    sum.throttling_ratio = sum.nr_periods > 0 ? sum.nr_throttled / sum.nr_periods : 0;
    double total = 0;
    for (const TargetSample* s : cg) {
      total += double(s->cgroup->memory_bytes);
      sum.memory_peak_bytes = std::max({sum.memory_peak_bytes, double(s->cgroup->memory_bytes),
                                        double(s->cgroup->memory_peak_bytes)});
    }
    sum.memory_mean_bytes = total / double(cg.size());
  } else if (!proc.empty()) {
    sum.cpu_s = counter_delta(proc, [](const TargetSample& s) { return s.process->cpu_s; });
    double total = 0;
    for (const TargetSample* s : proc) {
      total += double(s->process->memory_bytes);
      sum.memory_peak_bytes = std::max(sum.memory_peak_bytes, double(s->process->memory_bytes));
    }
    sum.memory_mean_bytes = total / double(proc.size());
  }
  if (!proc.empty()) {
    sum.wakeups =
        counter_delta(proc, [](const TargetSample& s) { return double(s.process->wakeups); });
  }
  if (!net.empty()) {
    sum.rx_bytes =
        counter_delta(net, [](const TargetSample& s) { return double(s.net->rx_bytes); });
    sum.tx_bytes =
        counter_delta(net, [](const TargetSample& s) { return double(s.net->tx_bytes); });
    sum.rx_packets =
        counter_delta(net, [](const TargetSample& s) { return double(s.net->rx_packets); });
    sum.tx_packets =
        counter_delta(net, [](const TargetSample& s) { return double(s.net->tx_packets); });
  }
  return sum;
}

std::vector<TargetSummary> Sampler::summarize_all(SamplerClock::time_point start,
                                                  SamplerClock::time_point end) const {
  std::vector<TargetSummary> out;
  for (const auto& name : target_names()) {
    if (auto s = summarize(name, start, end); s) out.push_back(std::move(*s));
  }
  return out;
}

std::vector<HostSample> Sampler::host_series() const {
  std::lock_guard lock(mutex_);
  return host_;
}

Result<HostSummary> Sampler::summarize_host(SamplerClock::time_point start,
                                            SamplerClock::time_point end) const {
  std::vector<HostSample> all = host_series();
  std::vector<const HostSample*> in;
  for (const auto& s : all) {
    if (s.at >= start && s.at <= end) in.push_back(&s);
  }
  if (in.size() < 2) {
    return make_error(ErrorKind::kNotFound, "host has " + std::to_string(in.size()) +
                                                " sample(s) in the window, needs two");
  }
  HostSummary sum;
  sum.samples = in.size();
  double total = 0, steal = 0;
  for (size_t i = 1; i < in.size(); ++i) {
    if (!in[i - 1]->ticks || !in[i]->ticks) continue;
    const HostCpuTicks& a = *in[i - 1]->ticks;
    const HostCpuTicks& b = *in[i]->ticks;
    if (b.total < a.total || b.steal < a.steal) continue;
    total += static_cast<double>(b.total - a.total);
    steal += static_cast<double>(b.steal - a.steal);
  }
  sum.steal_ratio = total > 0 ? steal / total : 0;
  std::vector<double> probes;
  for (const HostSample* s : in) probes.push_back(s->speed_probe_us);
  std::nth_element(probes.begin(), probes.begin() + probes.size() / 2, probes.end());
  sum.speed_probe_us = probes[probes.size() / 2];
  return sum;
}

void Sampler::write_csv(std::ostream& out) const {
  out << "target,unix_s,elapsed_s,cpu_s,nr_periods,nr_throttled,throttled_s,memory_bytes,memory_"
         "peak_bytes,"
         "rx_bytes,rx_packets,tx_bytes,tx_packets,process_cpu_s,process_memory_bytes,process_"
         "wakeups,"
         "host_total_ticks,host_steal_ticks,speed_probe_us\n";
  std::lock_guard lock(mutex_);
  for (const auto& series : series_) {
    for (const auto& s : series.samples) {
      std::string row = series.target.name;  // names are ours ("node1"), no quoting needed
      append_number(row, s.unix_s);
      append_number(row, std::chrono::duration<double>(s.at - origin_).count());
      if (s.cgroup) {
        append_number(row, s.cgroup->cpu_s);
        append_number(row, s.cgroup->nr_periods);
        append_number(row, s.cgroup->nr_throttled);
        append_number(row, s.cgroup->throttled_s);
        append_number(row, s.cgroup->memory_bytes);
        append_number(row, s.cgroup->memory_peak_bytes);
      } else {
        row += ",,,,,,";
      }
      if (s.net) {
        append_number(row, s.net->rx_bytes);
        append_number(row, s.net->rx_packets);
        append_number(row, s.net->tx_bytes);
        append_number(row, s.net->tx_packets);
      } else {
        row += ",,,,";
      }
      if (s.process) {
        append_number(row, s.process->cpu_s);
        append_number(row, s.process->memory_bytes);
        append_number(row, s.process->wakeups);
      } else {
        row += ",,,";
      }
      out << row << ",,,\n";
    }
  }
  for (const auto& h : host_) {
    std::string row = "host";
    append_number(row, h.unix_s);
    append_number(row, std::chrono::duration<double>(h.at - origin_).count());
    row += ",,,,,,,,,,,,,";
    if (h.ticks) {
      append_number(row, h.ticks->total);
      append_number(row, h.ticks->steal);
    } else {
      row += ",,";
    }
    append_number(row, h.speed_probe_us);
    out << row << '\n';
  }
}

Status Sampler::write_csv_file(const std::string& path) const {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return make_error(ErrorKind::kIo, "cannot open " + path + " for writing");
  write_csv(out);
  out.flush();
  if (!out) return make_error(ErrorKind::kIo, "cannot write " + path);
  return {};
}

}  // namespace fogm2m::testbed
