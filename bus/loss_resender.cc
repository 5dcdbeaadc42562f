#include "bus/loss_resender.h"

namespace fogm2m::bus {

void LossResender::track(const std::vector<std::string>& tickets) {
  // Due at once: the loss may have swallowed the last repeat too.
  for (const std::string& t : tickets) unconfirmed_[t] = Clock::time_point{};
}

void LossResender::lost(const std::vector<std::string>& in_flight) {
  down_ = true;
  watching_ = true;
  ++settle_generation_;  // a settle timer running ends nothing now
  track(in_flight);
}

void LossResender::recovered() {
  if (!down_) return;
  down_ = false;
  const uint64_t generation = ++settle_generation_;
  settle_timer_.expires_after(options_.settle);
  settle_timer_.async_wait(lifetime_.guard([this, generation](boost::system::error_code ec) {
    if (!ec && generation == settle_generation_) watching_ = false;
  }));
  resend_round();
}

void LossResender::retry(const std::vector<std::string>& in_flight) {
  track(in_flight);
  resend_round();
}

void LossResender::resend_round() {
  if (down_ || unconfirmed_.empty()) return;
  const auto now = Clock::now();
  // resend_ may end a request (a publish refused at once): collect first.
  std::vector<std::string> due;
  for (const auto& [ticket, last] : unconfirmed_)
    if (now - last >= options_.interval) due.push_back(ticket);
  for (const std::string& ticket : due) {
    auto it = unconfirmed_.find(ticket);
    if (it == unconfirmed_.end()) continue;
    it->second = now;
    ++resent_;
    resend_(ticket);
  }
  arm();
}

void LossResender::arm() {
  if (armed_ || down_ || unconfirmed_.empty()) return;
  armed_ = true;
  // Every interval/2: a repeat goes out between one and one and a half
  // intervals after the last.
  timer_.expires_after(options_.interval / 2);
  timer_.async_wait(lifetime_.guard([this](boost::system::error_code ec) {
    armed_ = false;
    if (!ec) resend_round();
  }));
}

}  // namespace fogm2m::bus
