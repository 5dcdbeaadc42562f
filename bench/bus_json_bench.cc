// What every bus message costs in JSON: the node parses each request and
// formats each notification and reply; the load generator formats requests
// and reads replies (the head to route them, the whole reply for a test to
// check). Gate benchmarks (gate_iterations.h).
#include <benchmark/benchmark.h>

#include <string>

#include "bench/emulated_accelerometer.h"
#include "bench/gate_iterations.h"
#include "bus/reply.h"
#include "bus/request.h"

namespace fogm2m::bus {
namespace {

using bench::gate;

constexpr std::string_view kTicket = "7f3c2a9e-5d41-4c8b-9e0f-1a2b3c4d5e6f";

Request read_request() {
  Request r;
  r.endpoint = "urn:imei:356938035643809";
  r.ticket = std::string(kTicket);
  r.kind = RequestKind::kRead;
  r.path = lwm2m::Path(3313, 0, 5702);
  r.content_format = lwm2m::ContentFormat::kTlv;
  return r;
}

// The emulated accelerometer's instance, as a notification carries it.
DeviceResponse accelerometer_values() {
  DeviceResponse r;
  r.code = 69;  // 2.05 Content
  r.content_format = lwm2m::ContentFormat::kTlv;
  r.content = bench::accelerometer_instance();
  return r;
}

void BM_FormatRequest(benchmark::State& state) {
  const Request r = read_request();
  for (auto _ : state) {
    std::string json = format_request(r);
    benchmark::DoNotOptimize(json);
  }
}
BENCHMARK(BM_FormatRequest)->Apply(gate<20000>);

void BM_ParseRequest(benchmark::State& state) {
  const std::string json = format_request(read_request());
  for (auto _ : state) {
    ParsedRequest r = parse_request(json);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ParseRequest)->Apply(gate<10000>);

void BM_FormatNotification(benchmark::State& state) {
  const DeviceResponse values = accelerometer_values();
  const lwm2m::Path path(3313, 0);
  const NotificationSource source{"urn:imei:356938035643809", path};
  for (auto _ : state) {
    std::string json = format_notification(kTicket, values, source);
    benchmark::DoNotOptimize(json);
  }
}
BENCHMARK(BM_FormatNotification)->Apply(gate<10000>);

void BM_ParseReplyHead(benchmark::State& state) {
  const lwm2m::Path path(3313, 0);
  const std::string json = format_notification(
      kTicket, accelerometer_values(), NotificationSource{"urn:imei:356938035643809", path});
  for (auto _ : state) {
    auto head = parse_reply_head(json);
    benchmark::DoNotOptimize(head);
  }
}
BENCHMARK(BM_ParseReplyHead)->Apply(gate<50000>);

void BM_ParseReply(benchmark::State& state) {
  const std::string json = format_rep(kTicket, accelerometer_values());
  for (auto _ : state) {
    auto reply = parse_reply(json);
    benchmark::DoNotOptimize(reply);
  }
}
BENCHMARK(BM_ParseReply)->Apply(gate<10000>);

}  // namespace
}  // namespace fogm2m::bus
