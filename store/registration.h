// A device's registration with the cluster: what Register said and what the
// server knows of the device's address, as stored under REG:EP:{<ep>}.
//
// The JSON form keeps the field names of the reference study's Leshan
// cluster (regDate, identity, regAddr, regPort, lt, ver, bnd, ep, regId,
// objLink, addAttr, root, lastUp) so its scripts read our records.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lwm2m/link_format.h"
#include "lwm2m/peer_address.h"
#include "lwm2m/result.h"

namespace fogm2m::store {

using lwm2m::PeerAddress;

struct Registration {
  std::string endpoint;               // ep
  std::string reg_id;                 // regId, the path segment of /rd/<regId>
  int64_t lifetime_s = 86400;         // lt
  std::string lwm2m_version = "1.0";  // ver (lwm2m= query parameter)
  std::string binding = "U";          // bnd
  std::string sms;                    // sms number, may be empty
  bool queue_mode = false;            // LwM2M 1.1 "Q" parameter or 1.0 "UQ" binding
  PeerAddress peer;                   // identity {address, port}
  bool secure = false;                // registered over DTLS
  std::string psk_identity;           // when secure
  std::string root_path = "/";
  std::vector<lwm2m::Link> object_links;                     // objLink, as sent
  std::map<std::string, std::string> additional_attributes;  // addAttr
  int64_t registration_date_ms = 0;                          // regDate, Unix ms
  int64_t last_update_ms = 0;                                // lastUp, Unix ms
  std::string owner;  // id of the node the device talks to (EP#UID)

  // When the registration ends if no Update comes: lastUp + lifetime.
  int64_t expiry_ms() const { return last_update_ms + lifetime_s * 1000; }
};

// What an Update may change; unset fields keep their value.
struct RegistrationUpdate {
  std::string reg_id;
  std::optional<int64_t> lifetime_s;
  std::optional<std::string> binding;
  std::optional<std::string> sms;
  std::optional<PeerAddress> peer;
  std::optional<std::vector<lwm2m::Link>> object_links;
  int64_t now_ms = 0;
};

// Applies `update` to `reg` (lastUp becomes update.now_ms).
void apply_update(Registration& reg, const RegistrationUpdate& update);

boost::json::value to_json(const Registration& reg);
// Links as the record (and the bus) writes them: [{"url":"/3/0","at":{"ver":"1.1","obs":null}}].
boost::json::array links_to_json(const std::vector<lwm2m::Link>& links);
// kMalformed with the reason (to be prefixed with the field's name).
Result<std::vector<lwm2m::Link>> links_from_json(const boost::json::value& value);
std::string to_json_string(const Registration& reg);
// Reads a record written by to_json (or by the Leshan cluster: unknown
// fields are ignored). Errors name the field at fault.
Result<Registration> registration_from_json(const boost::json::value& json);
Result<Registration> registration_from_json_string(std::string_view text);

// A new registration id: 10 characters of [A-Za-z0-9] from a CSPRNG-seeded
// generator, like Leshan's. Unique with overwhelming probability.
std::string new_registration_id();

}  // namespace fogm2m::store
