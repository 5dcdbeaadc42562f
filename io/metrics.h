// Prometheus metrics: counters, gauges and histograms in a Registry that
// renders them in the text exposition format 0.0.4 (what GET /metrics
// answers, see io/metrics_http_server.h).
//
//   metrics::Registry registry;
//   metrics::Counter& sent = registry.counter("fogm2m_sent_total", "Messages sent.",
//                                             {{"transport", "udp"}});
//   sent.inc();  // on the hot path: one add, no lookup
//   std::string text = registry.render();
//
// Threading: none. A registry and its metrics belong to one thread (the
// thread running the io_context they are used on); updates are plain,
// non-atomic adds, and render() must run on that same thread.
//
// Ownership: the registry owns its metrics. A reference it returns stays
// valid as long as the registry; callbacks it is given are called by
// render() only, so what they read must outlive every render().
//
// Rules enforced when a metric is made (a breach is a programming error:
// std::logic_error): names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
// [a-zA-Z_][a-zA-Z0-9_]* (not starting with "__", not repeated, not "le" on
// a histogram); counter names end in "_total"; one name has one type and
// one help text; histogram bounds are finite and strictly increasing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace fogm2m::io::metrics {

// Label names and values of one series, e.g. {{"kind", "read"}}. The order
// does not matter: {a, b} and {b, a} name the same series.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A count that only goes up (from 0, for the registry's lifetime).
class Counter {
 public:
  void inc(uint64_t n = 1) { value_ += n; }
  uint64_t value() const { return value_; }

 private:
  uint64_t value_ = 0;
};

// A value that goes up and down (starts at 0).
class Gauge {
 public:
  void set(double v) { value_ = v; }
  void add(double d) { value_ += d; }
  double value() const { return value_; }

 private:
  double value_ = 0;
};

// Observations counted into buckets by fixed upper bounds, with their sum
// and count.
class Histogram {
 public:
  // `bounds`: the buckets' inclusive upper bounds, finite and strictly
  // increasing (may be empty: the +Inf bucket always exists); else
  // std::logic_error.
  explicit Histogram(std::vector<double> bounds);

  // Counts `v` in the first bucket whose bound is >= v (NaN: only in +Inf).
  void observe(double v);

  const std::vector<double>& bounds() const { return bounds_; }
  // Observations per bucket, not cumulative: bounds().size() + 1 entries,
  // the last one for the values above every bound.
  const std::vector<uint64_t>& bucket_counts() const { return counts_; }
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  double sum_ = 0;
};

// Bounds for the latency of an LwM2M request, in seconds: 100 us to 10 s
// in a 1-2.5-5 progression (16 bounds).
std::vector<double> latency_buckets_seconds();

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The series `name`{`labels`}: made on the first call, the same object on
  // every later call with that name and those labels. `help` is the
  // metric's one-line description (the same on every call).
  Counter& counter(std::string name, std::string help, Labels labels = {});
  Gauge& gauge(std::string name, std::string help, Labels labels = {});
  // `bounds` as Histogram's; a later call must give the same bounds.
  Histogram& histogram(std::string name, std::string help, std::vector<double> bounds,
                       Labels labels = {});

  // A series whose value render() reads from `read`: for state that lives
  // elsewhere (a queue's length, a link's state, a count kept by another
  // component). A second call with the same name and labels replaces the
  // callback. A name holds either callbacks or objects of the kind above,
  // not both for the same labels.
  void gauge_callback(std::string name, std::string help, std::function<double()> read,
                      Labels labels = {});
  void counter_callback(std::string name, std::string help, std::function<uint64_t()> read,
                        Labels labels = {});

  // Every metric in the text exposition format 0.0.4: families by name,
  // series by labels, each family with one # HELP and one # TYPE line.
  std::string render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  // One series: a metric object, or the callback render() reads.
  using Value =
      std::variant<Counter, Gauge, Histogram, std::function<uint64_t()>, std::function<double()>>;
  struct Family {
    Type type;
    std::string help;
    std::map<Labels, Value> series;  // by sorted labels; nodes never move
  };

  // The series name{labels} in a family of `type`, and whether it is new
  // (then holding a default Counter, for the caller to replace). Throws
  // std::logic_error on a bad name or labels, or a type or help conflict.
  std::pair<Value*, bool> find_or_add(std::string name, std::string help, Type type, Labels labels);

  std::map<std::string, Family> families_;  // by name: render()'s order
};

}  // namespace fogm2m::io::metrics
