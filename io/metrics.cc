#include "io/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace fogm2m::io::metrics {

namespace {

// ---------------------------------------------------------------------------
// Names and labels
// ---------------------------------------------------------------------------

bool valid_name(std::string_view name, bool colon_allowed) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_allowed && c == ':');
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// The labels checked and sorted by name, so any order names one series.
Labels normalized(const std::string& metric, Labels labels, bool histogram) {
  std::sort(labels.begin(), labels.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string& name = labels[i].first;
    if (!valid_name(name, false) || name.starts_with("__"))
      throw std::logic_error("metric " + metric + ": invalid label name \"" + name + "\"");
    if (i > 0 && labels[i - 1].first == name)
      throw std::logic_error("metric " + metric + ": label " + name + " given twice");
    if (histogram && name == "le")
      throw std::logic_error("histogram " + metric + ": the label le is the bucket's");
  }
  return labels;
}

// ---------------------------------------------------------------------------
// Text exposition format 0.0.4
// ---------------------------------------------------------------------------

// HELP text: backslash and line feed escaped.
void append_help(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

// Label values: backslash, double quote and line feed escaped.
void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

// A number as Prometheus (Go's ParseFloat) reads it back exactly: the
// shortest representation that round-trips, in plain decimals for
// magnitudes from 1e-5 to 1e15 ("0.00025", "10", "1.5"), else in
// scientific notation ("1e-07"); NaN, +Inf and -Inf spelled so.
void append_double(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  const double magnitude = std::fabs(v);
  const auto format = magnitude == 0 || (magnitude >= 1e-5 && magnitude < 1e15)
                          ? std::chars_format::fixed
                          : std::chars_format::scientific;
  char buffer[64];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, v, format).ptr;
  out.append(buffer, end);
}

void append_uint(std::string& out, uint64_t v) {
  char buffer[24];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, v).ptr;
  out.append(buffer, end);
}

// `{a="x",b="y"}` (nothing without labels); `le`, when given, goes last.
void append_labels(std::string& out, const Labels& labels, const std::string* le = nullptr) {
  if (labels.empty() && !le) return;
  out += '{';
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out += ',';
    first = false;
    out += name;
    out += "=\"";
    append_label_value(out, value);
    out += '"';
  }
  if (le) {
    if (!first) out += ',';
    out += "le=\"";
    out += *le;
    out += '"';
  }
  out += '}';
}

// By Registry::Type.
constexpr const char* kTypeNames[] = {"counter", "gauge", "histogram"};

}  // namespace

// ---------------------------------------------------------------------------
// Histogram
// ---------------------------------------------------------------------------

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]))
      throw std::logic_error("histogram bounds must be finite (+Inf is implied)");
    if (i > 0 && !(bounds_[i - 1] < bounds_[i]))
      throw std::logic_error("histogram bounds must be strictly increasing");
  }
}

void Histogram::observe(double v) {
  // The first bound >= v; NaN compares false with everything and would land
  // in the first bucket, so it goes to +Inf explicitly.
  const size_t bucket =
      std::isnan(v) ? bounds_.size()
                    : static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                          bounds_.begin());
  ++counts_[bucket];
  ++count_;
  sum_ += v;
}

std::vector<double> latency_buckets_seconds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

// ---------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------

std::pair<Registry::Value*, bool> Registry::find_or_add(std::string name, std::string help,
                                                        Type type, Labels labels) {
  if (!valid_name(name, true)) throw std::logic_error("invalid metric name \"" + name + "\"");
  if (type == Type::kCounter && !name.ends_with("_total"))
    throw std::logic_error("counter " + name + ": a counter's name ends in _total");
  labels = normalized(name, std::move(labels), type == Type::kHistogram);
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(name, Family{type, std::move(help), {}}).first;
  } else if (it->second.type != type) {
    throw std::logic_error("metric " + name + " is a " +
                           kTypeNames[static_cast<int>(it->second.type)] + ", not a " +
                           kTypeNames[static_cast<int>(type)]);
  } else if (it->second.help != help) {
    throw std::logic_error("metric " + name + " was registered with another help text");
  }
  auto [series, added] = it->second.series.try_emplace(std::move(labels));
  return {&series->second, added};
}

Counter& Registry::counter(std::string name, std::string help, Labels labels) {
  const std::string what = name;
  auto [value, added] =
      find_or_add(std::move(name), std::move(help), Type::kCounter, std::move(labels));
  if (!std::holds_alternative<Counter>(*value))
    throw std::logic_error("counter " + what + " is read through a callback");
  return std::get<Counter>(*value);
}

Gauge& Registry::gauge(std::string name, std::string help, Labels labels) {
  const std::string what = name;
  auto [value, added] =
      find_or_add(std::move(name), std::move(help), Type::kGauge, std::move(labels));
  if (added) value->emplace<Gauge>();
  if (!std::holds_alternative<Gauge>(*value))
    throw std::logic_error("gauge " + what + " is read through a callback");
  return std::get<Gauge>(*value);
}

Histogram& Registry::histogram(std::string name, std::string help, std::vector<double> bounds,
                               Labels labels) {
  const std::string what = name;
  Histogram fresh(std::move(bounds));  // checks the bounds before anything is added
  auto [value, added] =
      find_or_add(std::move(name), std::move(help), Type::kHistogram, std::move(labels));
  if (added) return value->emplace<Histogram>(std::move(fresh));
  Histogram& h = std::get<Histogram>(*value);  // a histogram family holds nothing else
  if (h.bounds() != fresh.bounds())
    throw std::logic_error("histogram " + what + " was registered with other bounds");
  return h;
}

void Registry::gauge_callback(std::string name, std::string help, std::function<double()> read,
                              Labels labels) {
  const std::string what = name;
  auto [value, added] =
      find_or_add(std::move(name), std::move(help), Type::kGauge, std::move(labels));
  if (!added && std::holds_alternative<Gauge>(*value))
    throw std::logic_error("gauge " + what + " is set, not read through a callback");
  value->emplace<std::function<double()>>(std::move(read));
}

void Registry::counter_callback(std::string name, std::string help, std::function<uint64_t()> read,
                                Labels labels) {
  const std::string what = name;
  auto [value, added] =
      find_or_add(std::move(name), std::move(help), Type::kCounter, std::move(labels));
  if (!added && std::holds_alternative<Counter>(*value))
    throw std::logic_error("counter " + what + " is counted, not read through a callback");
  value->emplace<std::function<uint64_t()>>(std::move(read));
}

std::string Registry::render() const {
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP ";
    out += name;
    out += ' ';
    append_help(out, family.help);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += kTypeNames[static_cast<int>(family.type)];
    out += '\n';
    for (const auto& [labels, value] : family.series) {
      if (const auto* h = std::get_if<Histogram>(&value)) {
        uint64_t cumulative = 0;
        std::string le;
        for (size_t i = 0; i <= h->bounds().size(); ++i) {
          cumulative += h->bucket_counts()[i];
          le.clear();
          if (i < h->bounds().size())
            append_double(le, h->bounds()[i]);
          else
            le = "+Inf";
          out += name;
          out += "_bucket";
          append_labels(out, labels, &le);
          out += ' ';
          append_uint(out, cumulative);
          out += '\n';
        }
        out += name;
        out += "_sum";
        append_labels(out, labels);
        out += ' ';
        append_double(out, h->sum());
        out += '\n';
        out += name;
        out += "_count";
        append_labels(out, labels);
        out += ' ';
        append_uint(out, h->count());
        out += '\n';
        continue;
      }
      out += name;
      append_labels(out, labels);
      out += ' ';
      if (const auto* c = std::get_if<Counter>(&value))
        append_uint(out, c->value());
      else if (const auto* g = std::get_if<Gauge>(&value))
        append_double(out, g->value());
      else if (const auto* read_count = std::get_if<std::function<uint64_t()>>(&value))
        append_uint(out, (*read_count)());
      else
        append_double(out, std::get<std::function<double()>>(value)());
      out += '\n';
    }
  }
  return out;
}

}  // namespace fogm2m::io::metrics
