// What a fault run cost, from the load generator's timeline (second by
// second, each observed device's notification times) and the injector's
// log: recovery time per fault, requests failed after it, notification
// gaps, observations lost and re-established. Pure functions over
// measurements, so they are tested without a cluster.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "lwm2m/result.h"
#include "runner/fault_injector.h"
#include "runner/load_result.h"
#include "schema/result.pb.h"

namespace fogm2m::runner {

// Fills everything of FaultStats but the registration counts and the
// timeline file, by the rules of results/fault_stats.h. `run_s`: how long
// the load ran.
schema::FaultStats fault_stats(const LoadResult& load, const std::vector<InjectedFault>& faults,
                               double run_s);

// Registrations lost: endpoints in `before` that are not in `after`.
uint32_t registrations_lost(const std::set<std::string>& before,
                            const std::set<std::string>& after);

// The timeline as CSV: second, sent, answered, err, timed_out, p99_ms,
// notifications, events (what the injector did in that second), then
// owned_<node> for every node sampled (devices it owned during that second;
// empty when not sampled).
Status write_timeline_csv(const std::string& path, const LoadResult& load,
                          const std::vector<FaultEvent>& events,
                          const std::vector<OwnershipSample>& ownership = {});

}  // namespace fogm2m::runner
