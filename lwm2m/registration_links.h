// What a registration payload says in LwM2M terms: the alternate root path,
// the objects and instances a device exposes, their versions and the content
// formats it supports (LwM2M 1.1 section 6.2.1, "Register" payload).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lwm2m/link_format.h"
#include "lwm2m/result.h"

namespace fogm2m::lwm2m {

struct RegistrationLinks {
  std::string root_path = "/";  // from a link with rt="oma.lwm2m", else "/"
  std::vector<Link> links;      // every link as sent (the registration record keeps them)
  // Object id -> instance ids (empty when only "</o>" was listed), ascending.
  std::map<uint16_t, std::vector<uint16_t>> objects;
  // Object id -> version from ";ver=", when given.
  std::map<uint16_t, std::string> object_versions;
  // Content formats from the root link's ";ct=" (one number or a quoted list).
  std::vector<uint16_t> content_formats;

  bool has_object(uint16_t object_id) const { return objects.count(object_id) != 0; }
};

// Interprets a registration payload. Links that are not object or object
// instance paths under the root are kept in `links` but otherwise ignored,
// as LwM2M servers commonly do. Errors: link-format syntax errors, an
// object-instance path that is not a valid LwM2M path under the root, a
// malformed ct or ver value.
Result<RegistrationLinks> parse_registration_links(std::string_view payload);

}  // namespace fogm2m::lwm2m
