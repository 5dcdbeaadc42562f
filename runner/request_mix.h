// What an open-loop load asks: for each request, a random endpoint of the
// given list and a random entry of the scenario's mix (by weight), with
// "{xyz}" in its path replaced by one of 5702, 5703, 5704 (the IPSO 3313
// accelerometer's X, Y, Z values). Seeded: the same seed gives the same
// sequence on the same standard library.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "lwm2m/result.h"
#include "schema/scenario.pb.h"

namespace fogm2m::runner {

struct PickedRequest {
  const std::string* endpoint = nullptr;  // into the mix's endpoint list
  const schema::RequestSpec* spec = nullptr;  // into the mix's entries
  std::string path;  // spec->path with {xyz} expanded
};

class RequestMix {
 public:
  // Errors (kInvalidArgument): no endpoints, an empty mix, a weight <= 0.
  static Result<RequestMix> make(std::vector<schema::RequestSpec> mix, std::vector<std::string> endpoints, uint64_t seed);

  PickedRequest next();

  const std::vector<std::string>& endpoints() const { return endpoints_; }

 private:
  RequestMix(std::vector<schema::RequestSpec> mix, std::vector<std::string> endpoints, uint64_t seed);

  std::vector<schema::RequestSpec> mix_;
  std::vector<std::string> endpoints_;
  std::mt19937_64 random_;
  std::discrete_distribution<size_t> pick_spec_;
  std::uniform_int_distribution<size_t> pick_endpoint_;
  std::uniform_int_distribution<int> pick_axis_{0, 2};
};

// The bus request of the thesis' shape for `request`:
// {"ep":..,"ticket":..,"req":{"kind":..,"path":..[,"contentFormat":..][,"value":..]}}
std::string format_request(const PickedRequest& request, std::string_view ticket);

}  // namespace fogm2m::runner
