// Registration events on the bus, one channel per kind (channels.h):
//   new     (LESHAN_REG_NEW): the registration record (store/registration.h)
//   update  (LESHAN_REG_UPD): {"regUpdate":{"regId","lt","bnd"},"registration":<record>}
//   delete  (LESHAN_REG_DEL): the record of the registration that ended
// Every node sees every event: a node drops a local device that another
// node took over, or whose registration ended elsewhere.
#pragma once

#include <string>
#include <string_view>

#include "lwm2m/result.h"
#include "store/registration.h"

namespace fogm2m::bus {

enum class RegistrationEventKind { kNew, kUpdate, kDelete };

std::string format_registration_event(RegistrationEventKind kind,
                                      const store::Registration& registration);
// The registration an event carries; kMalformed when the message is not an
// event of `kind`.
Result<store::Registration> parse_registration_event(RegistrationEventKind kind,
                                                     std::string_view message);

}  // namespace fogm2m::bus
