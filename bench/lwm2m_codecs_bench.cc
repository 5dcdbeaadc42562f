// The LwM2M core's hot paths, as the node and the fleet run them for every
// message: the CoAP codec on a notification datagram, and the content
// formats the emulated IPSO 3313 instance travels in (TLV, SenML JSON).
// Gate benchmarks (gate_iterations.h): the performance gate counts their
// instructions per iteration.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/emulated_accelerometer.h"
#include "bench/gate_iterations.h"
#include "lwm2m/coap_message.h"
#include "lwm2m/codec/codec.h"
#include "lwm2m/model.h"

namespace fogm2m::lwm2m {
namespace {

using bench::gate;

const ModelRegistry& models() {
  return emulated::DeviceObjects::models();
}

const Node& accelerometer() {
  return bench::accelerometer_instance();
}

// A NON notification of /3313/0 in TLV, as a device sends it.
CoapMessage notification() {
  CoapMessage m;
  m.type = CoapType::kNon;
  m.code = coap_code(CoapCode::kContent);
  m.message_id = 0x4242;
  m.token = "\x01\x02\x03\x04\x05\x06\x07\x08";
  m.add_uint_option(coap_option::kObserve, 1234);
  m.add_uint_option(coap_option::kContentFormat, static_cast<uint32_t>(ContentFormat::kTlv));
  auto payload = encode(ContentFormat::kTlv, Path(3313, 0), accelerometer());
  m.payload.assign(payload->begin(), payload->end());
  return m;
}

void BM_CoapEncodeNotification(benchmark::State& state) {
  const CoapMessage m = notification();
  for (auto _ : state) {
    auto bytes = encode_coap(m);
    benchmark::DoNotOptimize(bytes);
  }
}
BENCHMARK(BM_CoapEncodeNotification)->Apply(gate<20000>);

void BM_CoapDecodeNotification(benchmark::State& state) {
  const std::string bytes = *encode_coap(notification());
  for (auto _ : state) {
    auto m = decode_coap(std::string_view(bytes));
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(BM_CoapDecodeNotification)->Apply(gate<20000>);

void encode_instance(benchmark::State& state, ContentFormat format) {
  const Node& node = accelerometer();
  for (auto _ : state) {
    auto bytes = encode(format, Path(3313, 0), node);
    benchmark::DoNotOptimize(bytes);
  }
}

void decode_instance(benchmark::State& state, ContentFormat format) {
  const Bytes bytes = *encode(format, Path(3313, 0), accelerometer());
  for (auto _ : state) {
    auto node = decode(format, Path(3313, 0), bytes, models());
    benchmark::DoNotOptimize(node);
  }
}

void BM_TlvEncodeInstance(benchmark::State& s) {
  encode_instance(s, ContentFormat::kTlv);
}
void BM_TlvDecodeInstance(benchmark::State& s) {
  decode_instance(s, ContentFormat::kTlv);
}
void BM_SenmlEncodeInstance(benchmark::State& s) {
  encode_instance(s, ContentFormat::kSenmlJson);
}
void BM_SenmlDecodeInstance(benchmark::State& s) {
  decode_instance(s, ContentFormat::kSenmlJson);
}
BENCHMARK(BM_TlvEncodeInstance)->Apply(gate<10000>);
BENCHMARK(BM_TlvDecodeInstance)->Apply(gate<10000>);
BENCHMARK(BM_SenmlEncodeInstance)->Apply(gate<5000>);
BENCHMARK(BM_SenmlDecodeInstance)->Apply(gate<5000>);

}  // namespace
}  // namespace fogm2m::lwm2m
