// LoadResult -> ResultRecord.
#include "runner/load_result.h"

#include "results/latency_stats.h"

namespace fogm2m::runner {

void fill_record(const LoadResult& load, schema::ResultRecord* record) {
  record->set_window_s(load.window_s);
  record->set_requests_sent(load.sent);
  record->set_requests_answered(load.answered);
  record->set_requests_errored(load.errored());
  record->set_requests_timed_out(load.timed_out);
  record->set_achieved_rate(load.window_s > 0 ? load.answered / load.window_s : 0);
  *record->mutable_latency() = results::latency_stats(load.latencies_us);
  record->set_notifications_received(load.notifications);
  if (load.via_gateway) {
    schema::GatewayStats* gateway = record->mutable_gateway();
    *gateway->mutable_added_latency() = results::latency_stats(load.gateway_added_us);
    gateway->set_timed_requests(static_cast<uint32_t>(load.gateway_added_us.size()));
  }
}

}  // namespace fogm2m::runner
