// Random requests from a weighted mix over a list of endpoints.
#include "runner/request_mix.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace fogm2m::runner {

Result<RequestMix> RequestMix::make(std::vector<schema::RequestSpec> mix, std::vector<std::string> endpoints,
                                    uint64_t seed) {
  if (endpoints.empty()) return make_error(ErrorKind::kInvalidArgument, "request mix: no endpoints to send to");
  if (mix.empty()) return make_error(ErrorKind::kInvalidArgument, "request mix: no requests in the mix");
  for (const auto& spec : mix)
    if (!(spec.weight() > 0))
      return make_error(ErrorKind::kInvalidArgument, "request mix: weight of " + spec.kind() + " " + spec.path() + " is not > 0");
  return RequestMix(std::move(mix), std::move(endpoints), seed);
}

RequestMix::RequestMix(std::vector<schema::RequestSpec> mix, std::vector<std::string> endpoints, uint64_t seed)
    : mix_(std::move(mix)), endpoints_(std::move(endpoints)), random_(seed), pick_endpoint_(0, endpoints_.size() - 1) {
  std::vector<double> weights;
  for (const auto& spec : mix_) weights.push_back(spec.weight());
  pick_spec_ = std::discrete_distribution<size_t>(weights.begin(), weights.end());
}

PickedRequest RequestMix::next() {
  PickedRequest r;
  r.endpoint = &endpoints_[pick_endpoint_(random_)];
  r.spec = &mix_[mix_.size() == 1 ? 0 : pick_spec_(random_)];
  r.path = r.spec->path();
  if (const auto at = r.path.find("{xyz}"); at != std::string::npos) {
    static const char* const kAxes[] = {"5702", "5703", "5704"};
    r.path.replace(at, 5, kAxes[pick_axis_(random_)]);
  }
  return r;
}

std::string format_request(const PickedRequest& request, std::string_view ticket) {
  boost::json::object req;
  req["kind"] = request.spec->kind();
  req["path"] = request.path;
  if (!request.spec->content_format().empty()) req["contentFormat"] = request.spec->content_format();
  if (!request.spec->value().empty()) req["value"] = request.spec->value();
  boost::json::object msg;
  msg["ep"] = *request.endpoint;
  msg["ticket"] = ticket;
  msg["req"] = std::move(req);
  return boost::json::serialize(msg);
}

}  // namespace fogm2m::runner
