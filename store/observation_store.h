// Where the cluster keeps observations: OBS:TKN:{ep}<token> records, the
// per-endpoint token set TKNS:EP:{ep} and the token index EP:TKN:<token>.
// Values of notifications are not stored. Asynchronous like
// RegistrationStore (see there).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/done.h"
#include "store/observation.h"

namespace fogm2m::store {

class ObservationStore {
 public:
  virtual ~ObservationStore() = default;

  // Stores `obs` (replacing one with the same endpoint and token).
  virtual void add(const Observation& obs, Done<bool> done) = 0;
  // The observation of `endpoint` with `token_hex`, nullopt when absent.
  virtual void get(const std::string& endpoint, const std::string& token_hex,
                   Done<std::optional<Observation>> done) = 0;
  // The observation with `token_hex`, whichever endpoint's (a notification
  // from an address no registration has); nullopt when absent.
  virtual void find_by_token(const std::string& token_hex,
                             Done<std::optional<Observation>> done) = 0;
  // Removes one observation; the result says whether it existed.
  virtual void remove(const std::string& endpoint, const std::string& token_hex,
                      Done<bool> done) = 0;
  // Every observation of `endpoint`.
  virtual void list(const std::string& endpoint, Done<std::vector<Observation>> done) = 0;
  // Removes every observation of `endpoint` and returns them.
  virtual void remove_all(const std::string& endpoint, Done<std::vector<Observation>> done) = 0;
};

}  // namespace fogm2m::store
