// The registry's text exposition: exact output, escaping, histograms, and
// the rules it enforces when a metric is made.
#include "io/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace fogm2m::io::metrics {
namespace {

TEST(Metrics, RendersASmallRegistryExactly) {
  Registry registry;
  registry.counter("b_requests_total", "Requests.", {{"kind", "read"}}).inc(3);
  registry.counter("b_requests_total", "Requests.", {{"kind", "delete"}}).inc();
  registry.gauge("a_up", "Whether it is up.").set(1);
  registry.gauge_callback("c_queue", "Queue length.", [] { return 2.5; });
  registry.counter_callback("d_bytes_total", "Bytes.", [] { return uint64_t{1} << 40; },
                            {{"dir", "in"}});
  Histogram& h =
      registry.histogram("e_latency_seconds", "Latency.", {0.001, 0.5, 10}, {{"kind", "read"}});
  h.observe(0.0001);
  h.observe(0.25);

  EXPECT_EQ(registry.render(),
            "# HELP a_up Whether it is up.\n"
            "# TYPE a_up gauge\n"
            "a_up 1\n"
            "# HELP b_requests_total Requests.\n"
            "# TYPE b_requests_total counter\n"
            "b_requests_total{kind=\"delete\"} 1\n"
            "b_requests_total{kind=\"read\"} 3\n"
            "# HELP c_queue Queue length.\n"
            "# TYPE c_queue gauge\n"
            "c_queue 2.5\n"
            "# HELP d_bytes_total Bytes.\n"
            "# TYPE d_bytes_total counter\n"
            "d_bytes_total{dir=\"in\"} 1099511627776\n"
            "# HELP e_latency_seconds Latency.\n"
            "# TYPE e_latency_seconds histogram\n"
            "e_latency_seconds_bucket{kind=\"read\",le=\"0.001\"} 1\n"
            "e_latency_seconds_bucket{kind=\"read\",le=\"0.5\"} 2\n"
            "e_latency_seconds_bucket{kind=\"read\",le=\"10\"} 2\n"
            "e_latency_seconds_bucket{kind=\"read\",le=\"+Inf\"} 2\n"
            "e_latency_seconds_sum{kind=\"read\"} 0.2501\n"
            "e_latency_seconds_count{kind=\"read\"} 2\n");
}

TEST(Metrics, EscapesLabelValuesAndHelp) {
  Registry registry;
  registry.gauge("g", "Back\\slash and\nnewline \"kept\".", {{"v", "a\\b\"c\nd"}}).set(0);
  EXPECT_EQ(registry.render(),
            "# HELP g Back\\\\slash and\\nnewline \"kept\".\n"
            "# TYPE g gauge\n"
            "g{v=\"a\\\\b\\\"c\\nd\"} 0\n");
}

TEST(Metrics, FormatsNumbersAsPrometheusReadsThem) {
  Registry registry;
  registry.gauge("g", "G.", {{"n", "1"}}).set(std::numeric_limits<double>::infinity());
  registry.gauge("g", "G.", {{"n", "2"}}).set(-std::numeric_limits<double>::infinity());
  registry.gauge("g", "G.", {{"n", "3"}}).set(std::nan(""));
  registry.gauge("g", "G.", {{"n", "4"}}).set(1e-7);
  registry.gauge("g", "G.", {{"n", "5"}}).set(0.1 + 0.2);
  registry.gauge("g", "G.", {{"n", "6"}}).set(-12345678);
  registry.gauge("g", "G.", {{"n", "7"}}).set(1e20);
  registry.counter("c_total", "C.").inc(std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(registry.render(),
            "# HELP c_total C.\n"
            "# TYPE c_total counter\n"
            "c_total 18446744073709551615\n"
            "# HELP g G.\n"
            "# TYPE g gauge\n"
            "g{n=\"1\"} +Inf\n"
            "g{n=\"2\"} -Inf\n"
            "g{n=\"3\"} NaN\n"
            "g{n=\"4\"} 1e-07\n"
            "g{n=\"5\"} 0.30000000000000004\n"
            "g{n=\"6\"} -12345678\n"
            "g{n=\"7\"} 1e+20\n");
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Histogram h({1, 2, 3});
  for (double v : {0.5, 1.0, 1.5, 2.0, 2.5, 3.5, 100.0}) h.observe(v);
  h.observe(std::nan(""));
  // Per bucket: <=1: 0.5 and 1 (bounds are inclusive); <=2: 1.5 and 2; <=3:
  // 2.5; above: 3.5, 100 and NaN.
  EXPECT_EQ(h.bucket_counts(), (std::vector<uint64_t>{2, 2, 1, 3}));
  EXPECT_EQ(h.count(), 8u);

  Registry registry;
  Histogram& r = registry.histogram("h_seconds", "H.", {1, 2, 3});
  for (double v : {0.5, 1.0, 1.5, 2.0, 2.5, 3.5, 100.0}) r.observe(v);
  EXPECT_EQ(registry.render(),
            "# HELP h_seconds H.\n"
            "# TYPE h_seconds histogram\n"
            "h_seconds_bucket{le=\"1\"} 2\n"
            "h_seconds_bucket{le=\"2\"} 4\n"
            "h_seconds_bucket{le=\"3\"} 5\n"
            "h_seconds_bucket{le=\"+Inf\"} 7\n"
            "h_seconds_sum 111\n"
            "h_seconds_count 7\n");
}

TEST(Metrics, LatencyBucketsRiseFrom100MicrosecondsTo10Seconds) {
  const std::vector<double> b = latency_buckets_seconds();
  ASSERT_GE(b.size(), 12u);
  EXPECT_DOUBLE_EQ(b.front(), 0.0001);
  EXPECT_DOUBLE_EQ(b.back(), 10);
  EXPECT_NO_THROW(Histogram{b});  // strictly increasing and finite

  Registry registry;
  registry.histogram("l_seconds", "L.", b);
  EXPECT_NE(registry.render().find("l_seconds_bucket{le=\"0.00025\"} 0\n"), std::string::npos);
}

TEST(Metrics, CounterNamesEndInTotal) {
  Registry registry;
  EXPECT_THROW(registry.counter("requests", "R."), std::logic_error);
  EXPECT_THROW(registry.counter_callback("bytes", "B.", [] { return uint64_t{0}; }),
               std::logic_error);
  EXPECT_NO_THROW(registry.counter("requests_total", "R."));
  EXPECT_EQ(registry.render(),
            "# HELP requests_total R.\n# TYPE requests_total counter\n"
            "requests_total 0\n");
}

TEST(Metrics, TheSameNameAndLabelsAreTheSameMetric) {
  Registry registry;
  Counter& a = registry.counter("x_total", "X.", {{"k", "1"}, {"j", "2"}});
  Counter& b = registry.counter("x_total", "X.", {{"j", "2"}, {"k", "1"}});  // any label order
  Counter& other = registry.counter("x_total", "X.", {{"k", "2"}, {"j", "2"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &other);
  // References stay valid however many metrics follow.
  for (int i = 0; i < 1000; ++i)
    registry.counter("y" + std::to_string(i) + "_total", "Y.", {{"i", std::to_string(i)}});
  a.inc(7);
  EXPECT_EQ(registry.counter("x_total", "X.", {{"j", "2"}, {"k", "1"}}).value(), 7u);
  EXPECT_EQ(&registry.gauge("g", "G."), &registry.gauge("g", "G."));
  EXPECT_EQ(&registry.histogram("h", "H.", {1}), &registry.histogram("h", "H.", {1}));
}

TEST(Metrics, ConflictsAreProgrammingErrors) {
  Registry registry;
  registry.counter("x_total", "X.");
  EXPECT_THROW(registry.gauge("x_total", "X."), std::logic_error);
  EXPECT_THROW(registry.histogram("x_total", "X.", {1}), std::logic_error);
  EXPECT_THROW(registry.counter("x_total", "Another help."), std::logic_error);
  EXPECT_THROW(registry.counter_callback("x_total", "X.", [] { return uint64_t{1}; }),
               std::logic_error);
  registry.histogram("h", "H.", {1, 2});
  EXPECT_THROW(registry.histogram("h", "H.", {1, 3}), std::logic_error);
  registry.gauge_callback("g", "G.", [] { return 1.0; });
  EXPECT_THROW(registry.gauge("g", "G."), std::logic_error);

  EXPECT_THROW(registry.gauge("bad-name", "B."), std::logic_error);
  EXPECT_THROW(registry.gauge("9lives", "B."), std::logic_error);
  EXPECT_THROW(registry.gauge("g2", "B.", {{"bad-label", "v"}}), std::logic_error);
  EXPECT_THROW(registry.gauge("g2", "B.", {{"__reserved", "v"}}), std::logic_error);
  EXPECT_THROW(registry.gauge("g2", "B.", {{"a", "1"}, {"a", "2"}}), std::logic_error);
  EXPECT_THROW(registry.histogram("h2", "B.", {1}, {{"le", "1"}}), std::logic_error);
  EXPECT_THROW(registry.histogram("h2", "B.", {2, 1}), std::logic_error);
  EXPECT_THROW(registry.histogram("h2", "B.", {1, 1}), std::logic_error);
  EXPECT_THROW(registry.histogram("h2", "B.", {1, std::numeric_limits<double>::infinity()}),
               std::logic_error);
  // Nothing half-made stayed behind.
  EXPECT_EQ(registry.render().find("h2"), std::string::npos);
  EXPECT_EQ(registry.render().find("g2"), std::string::npos);
}

TEST(Metrics, ACallbackIsReadAtEveryRenderAndCanBeReplaced) {
  Registry registry;
  double depth = 1;
  registry.gauge_callback("q", "Q.", [&] { return depth; });
  EXPECT_NE(registry.render().find("q 1\n"), std::string::npos);
  depth = 4;
  EXPECT_NE(registry.render().find("q 4\n"), std::string::npos);
  registry.gauge_callback("q", "Q.", [] { return 9.0; });
  EXPECT_NE(registry.render().find("q 9\n"), std::string::npos);
}

}  // namespace
}  // namespace fogm2m::io::metrics
