#include "bus/channels.h"

namespace fogm2m::bus {

const std::string& Channels::registration(RegistrationEventKind kind) const {
  switch (kind) {
    case RegistrationEventKind::kNew:
      return registration_new;
    case RegistrationEventKind::kUpdate:
      return registration_update;
    case RegistrationEventKind::kDelete:
      break;
  }
  return registration_delete;
}

std::optional<RegistrationEventKind> Channels::registration_kind(std::string_view channel) const {
  if (channel == registration_new) return RegistrationEventKind::kNew;
  if (channel == registration_update) return RegistrationEventKind::kUpdate;
  if (channel == registration_delete) return RegistrationEventKind::kDelete;
  return std::nullopt;
}

}  // namespace fogm2m::bus
