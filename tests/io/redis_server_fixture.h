// Moved: include tests/support/redis_server.h.
#pragma once
#include "tests/support/redis_server.h"
