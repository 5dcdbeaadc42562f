// The web UI's files (gateway/web/), compiled into the gateway so that one
// binary serves them: no build step, nothing fetched at run time.
#pragma once

#include <string_view>

namespace fogm2m::gateway {

struct WebAsset {
  std::string_view name;  // "index.html"
  std::string_view content_type;
  std::string_view bytes;
};

// The file `name`, or nullptr.
const WebAsset* find_web_asset(std::string_view name);

}  // namespace fogm2m::gateway
