// Random requests from a weighted mix over a list of endpoints.
#include "runner/request_mix.h"

#include <boost/json/value.hpp>

namespace fogm2m::runner {

namespace {

Error invalid(const schema::RequestSpec& spec, const std::string& why) {
  return make_error(ErrorKind::kInvalidArgument,
                    "request mix: " + spec.kind() + " " + spec.path() + ": " + why);
}

}  // namespace

Result<RequestMix> RequestMix::make(std::vector<schema::RequestSpec> mix,
                                    std::vector<std::string> endpoints, uint64_t seed) {
  if (endpoints.empty())
    return make_error(ErrorKind::kInvalidArgument, "request mix: no endpoints to send to");
  if (mix.empty())
    return make_error(ErrorKind::kInvalidArgument, "request mix: no requests in the mix");
  std::vector<Entry> entries;
  std::vector<double> weights;
  for (const auto& spec : mix) {
    if (!(spec.weight() > 0)) return invalid(spec, "weight is not > 0");
    Entry e;
    const auto kind = bus::parse_request_kind(spec.kind());
    if (!kind) return invalid(spec, "unknown kind");
    if (bus::is_composite(*kind)) return invalid(spec, "a mix entry has one path: not composite");
    e.request.kind = *kind;
    const std::string& path = spec.path();
    const auto axis = path.find("{xyz}");
    for (const char* id : {"5702", "5703", "5704"}) {
      std::string expanded = path;
      if (axis != std::string::npos) expanded.replace(axis, 5, id);
      auto parsed = lwm2m::Path::parse(expanded);
      if (!parsed) return invalid(spec, parsed.error().message);
      e.paths.push_back(*parsed);
      if (axis == std::string::npos) break;
    }
    if (!spec.content_format().empty()) {
      e.request.content_format = lwm2m::parse_content_format(spec.content_format());
      if (!e.request.content_format)
        return invalid(spec, "unknown content format " + spec.content_format());
    }
    if (!spec.value().empty()) {
      if (e.paths.front().depth() < 3) return invalid(spec, "a value needs a resource path");
      e.request.node = bus::single_value_node(e.paths.front(), boost::json::value(spec.value()));
    }
    entries.push_back(std::move(e));
    weights.push_back(spec.weight());
  }
  return RequestMix(std::move(entries), weights, std::move(endpoints), seed);
}

RequestMix::RequestMix(std::vector<Entry> entries, const std::vector<double>& weights,
                       std::vector<std::string> endpoints, uint64_t seed)
    : entries_(std::move(entries)),
      endpoints_(std::move(endpoints)),
      random_(seed),
      pick_entry_(weights.begin(), weights.end()),
      pick_endpoint_(0, endpoints_.size() - 1) {}

bus::Request RequestMix::next() {
  // The order of the draws is kept from the first version of the mix, so a
  // seed picks the same sequence it always did.
  const std::string& endpoint = endpoints_[pick_endpoint_(random_)];
  const Entry& e = entries_[entries_.size() == 1 ? 0 : pick_entry_(random_)];
  bus::Request r = e.request;
  r.endpoint = endpoint;
  r.path =
      e.paths.size() == 1 ? e.paths.front() : e.paths[static_cast<size_t>(pick_axis_(random_))];
  if (r.node) r.node = bus::single_value_node(r.path, r.node->at("value"));
  return r;
}

}  // namespace fogm2m::runner
