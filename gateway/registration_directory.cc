#include "gateway/registration_directory.h"

namespace fogm2m::gateway {

void RegistrationDirectory::reload(std::function<void(Status)> done) {
  if (reloading_) return done({});
  reloading_ = true;
  during_reload_.clear();
  store_.list(
      lifetime_.guard([this, done = std::move(done)](Result<std::vector<store::Registration>> r) {
        reloading_ = false;
        if (!r) {
          during_reload_.clear();
          return done(r.error());
        }
        by_endpoint_.clear();
        for (auto& reg : *r) by_endpoint_[reg.endpoint] = std::move(reg);
        for (const auto& e : during_reload_) apply_now(e.kind, e.reg);
        during_reload_.clear();
        done({});
      }));
}

void RegistrationDirectory::apply(bus::RegistrationEventKind kind, const store::Registration& reg) {
  if (reloading_) during_reload_.push_back(Event{kind, reg});
  apply_now(kind, reg);
}

void RegistrationDirectory::apply_now(bus::RegistrationEventKind kind,
                                      const store::Registration& reg) {
  if (kind == bus::RegistrationEventKind::kDelete) {
    // Only the registration that ended: a newer one of the same endpoint stays.
    auto it = by_endpoint_.find(reg.endpoint);
    if (it != by_endpoint_.end() && it->second.reg_id == reg.reg_id) by_endpoint_.erase(it);
    return;
  }
  by_endpoint_[reg.endpoint] = reg;
}

const store::Registration* RegistrationDirectory::find(const std::string& endpoint) const {
  auto it = by_endpoint_.find(endpoint);
  return it == by_endpoint_.end() ? nullptr : &it->second;
}

void RegistrationDirectory::lookup(const std::string& endpoint,
                                   store::Done<std::optional<store::Registration>> done) {
  if (const auto* reg = find(endpoint)) return done(std::optional<store::Registration>(*reg));
  store_.get_by_endpoint(endpoint, std::move(done));
}

}  // namespace fogm2m::gateway
