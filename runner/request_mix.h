// What an open-loop load asks: for each request, a random endpoint of the
// given list and a random entry of the scenario's mix (by weight), with
// "{xyz}" in its path replaced by one of 5702, 5703, 5704 (the IPSO 3313
// accelerometer's X, Y, Z values). Seeded: the same seed gives the same
// sequence on the same standard library.
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "bus/request.h"
#include "lwm2m/result.h"
#include "schema/scenario.pb.h"

namespace fogm2m::runner {

class RequestMix {
 public:
  // Each entry of `mix` becomes a bus request (bus/request.h): its kind,
  // path, content format and, for a write, its value as the "value"
  // shorthand. Errors (kInvalidArgument): no endpoints, an empty mix, a
  // weight <= 0, a kind, path or content format the bus does not know.
  static Result<RequestMix> make(std::vector<schema::RequestSpec> mix,
                                 std::vector<std::string> endpoints, uint64_t seed);

  // The next request, its endpoint set and its ticket left to the caller.
  bus::Request next();

  const std::vector<std::string>& endpoints() const { return endpoints_; }

 private:
  // One entry of the mix; a path with {xyz} has its three expansions.
  struct Entry {
    bus::Request request;
    std::vector<lwm2m::Path> paths;  // one, or the three axes
  };
  RequestMix(std::vector<Entry> entries, const std::vector<double>& weights,
             std::vector<std::string> endpoints, uint64_t seed);

  std::vector<Entry> entries_;
  std::vector<std::string> endpoints_;
  std::mt19937_64 random_;
  std::discrete_distribution<size_t> pick_entry_;
  std::uniform_int_distribution<size_t> pick_endpoint_;
  std::uniform_int_distribution<int> pick_axis_{0, 2};
};

}  // namespace fogm2m::runner
