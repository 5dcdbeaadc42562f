// Moved: include tests/support/test_util.h.
#pragma once
#include "tests/support/test_util.h"
