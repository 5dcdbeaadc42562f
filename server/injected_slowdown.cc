#include "server/injected_slowdown.h"

namespace fogm2m::server {

__attribute__((weak)) void injected_slowdown() {}

}  // namespace fogm2m::server
