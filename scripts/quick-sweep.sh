#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine (as root): installs missing
# Debian packages, builds fogm2m and runs the quick sweep.
#
# The scenario runner and report arrive with their issues; until then this
# builds everything and shows what the fogm2m executable offers.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/build.sh

bash scripts/install-deps.sh
BUILD="${FOGM2M_BUILD_DIR:-build}"
FOGM2M_TARGETS=fogm2m fogm2m_build "$BUILD" >/dev/null
"$BUILD/cli/fogm2m" version
"$BUILD/cli/fogm2m" --help
