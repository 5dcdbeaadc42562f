// The git revision the fogm2m binary was built from (`git describe --always
// --dirty`, "unknown" outside a checkout), generated at every build by
// cmake/git_revision.cmake; run metadata and `fogm2m version` report it.
#pragma once

namespace fogm2m::cli {

const char* git_revision();

}  // namespace fogm2m::cli
