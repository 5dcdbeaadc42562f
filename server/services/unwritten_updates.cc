#include "server/services/unwritten_updates.h"

namespace fogm2m::server {

void UnwrittenUpdates::add(const store::RegistrationUpdate& update) {
  auto [it, fresh] = entries_.try_emplace(update.reg_id);
  Entry& e = it->second;
  ++e.version;
  if (fresh) {
    e.update = update;
    return;
  }
  store::RegistrationUpdate& into = e.update;
  if (update.lifetime_s) into.lifetime_s = update.lifetime_s;
  if (update.binding) into.binding = update.binding;
  if (update.sms) into.sms = update.sms;
  if (update.peer) into.peer = update.peer;
  if (update.object_links) into.object_links = update.object_links;
  into.now_ms = update.now_ms;
}

std::optional<UnwrittenUpdates::Write> UnwrittenUpdates::begin_write(const std::string& reg_id) {
  auto it = entries_.find(reg_id);
  if (it == entries_.end() || it->second.writing) return std::nullopt;
  it->second.writing = true;
  return Write{it->second.update, it->second.version};
}

bool UnwrittenUpdates::written(const std::string& reg_id, uint64_t version) {
  auto it = entries_.find(reg_id);
  if (it == entries_.end()) return false;
  it->second.writing = false;
  if (it->second.version == version) {
    entries_.erase(it);
    return false;
  }
  return true;
}

void UnwrittenUpdates::write_failed(const std::string& reg_id) {
  if (auto it = entries_.find(reg_id); it != entries_.end()) it->second.writing = false;
}

std::vector<std::string> UnwrittenUpdates::reg_ids() const {
  std::vector<std::string> ids;
  ids.reserve(entries_.size());
  for (const auto& [id, _] : entries_) ids.push_back(id);
  return ids;
}

}  // namespace fogm2m::server
