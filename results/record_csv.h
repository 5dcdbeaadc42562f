// The flat CSV form of a result record (records.csv), one row per record.
//
// Columns, in this order (the report reads them by name):
//   scenario, mode ("emulate"/"sim"), point_index, repetition, the Point's
//   fields, window_s, the request counts, achieved_rate, the Latency fields
//   as latency_*_ms, node_* aggregates over the record's nodes (mean, or max
//   for node_throttling_ratio_max and node_memory_peak_bytes_max; empty when
//   the record has no nodes), fleet_*, redis_*, host_*,
//   notifications_received, gateway_* (GatewayStats: cpu_s,
//   cpu_ms_per_1000_requests, memory_peak_bytes, added_{mean,p50,p99}_ms;
//   empty when the load went on the bus), latency_file, error.
// dtls is 0/1; whole numbers are written in full, others in their shortest
// exact form; text that holds a comma, quote or line break is quoted as
// RFC 4180 says.
#pragma once

#include <string>
#include <vector>

#include "schema/result.pb.h"

namespace fogm2m::results {

// The column names, in order.
const std::vector<std::string>& csv_columns();

// "scenario,mode,...,error" (no line break).
std::string csv_header();

// One row for `record`, in csv_columns() order (no line break).
std::string csv_row(const schema::ResultRecord& record);

}  // namespace fogm2m::results
