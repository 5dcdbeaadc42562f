// Registration Updates a node accepted from memory while the registration
// store was out of reach (Redis lost), waiting to be written through.
//
// The node owns these devices and keeps serving them: their Updates are
// answered 2.04 from the in-memory registration, and what they changed is
// kept here, merged per regId (later fields win), until the store is back.
// Ordering: per device, the store sees the device's Updates in the order it
// sent them, because once a device has an unwritten Update every later one
// joins it here instead of going to the store directly; across devices
// there is no order. An entry being written that gains a newer Update is
// written again (the merged update, with the newest values) before it is
// forgotten.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/registration.h"

namespace fogm2m::server {

class UnwrittenUpdates {
 public:
  struct Write {
    store::RegistrationUpdate update;
    uint64_t version = 0;
  };

  // Merges `update` into its regId's entry (creating it).
  void add(const store::RegistrationUpdate& update);
  bool contains(const std::string& reg_id) const { return entries_.count(reg_id) != 0; }

  // The merged update to write now; nullopt when there is none or it is
  // being written already.
  std::optional<Write> begin_write(const std::string& reg_id);
  // The write of `version` succeeded: forgets the entry, unless a newer
  // update arrived meanwhile; true when it must be written again.
  bool written(const std::string& reg_id, uint64_t version);
  // The write failed: the entry waits for the next attempt.
  void write_failed(const std::string& reg_id);
  void erase(const std::string& reg_id) { entries_.erase(reg_id); }

  std::vector<std::string> reg_ids() const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    store::RegistrationUpdate update;
    uint64_t version = 0;
    bool writing = false;
  };
  std::map<std::string, Entry> entries_;
};

}  // namespace fogm2m::server
