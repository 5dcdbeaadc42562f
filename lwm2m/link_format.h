// CoRE Link Format (RFC 6690) as LwM2M uses it: registration payloads
// ("</>;rt=\"oma.lwm2m\",</1/0>,</3/0>,</3313/0>;ver=1.1") and Discover
// responses ("</3/0/7>;dim=2;pmin=10").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lwm2m/result.h"

namespace fogm2m::lwm2m {

struct LinkAttribute {
  std::string name;
  std::optional<std::string> value;  // unquoted; nullopt for a bare flag like ";obs"
  friend bool operator==(const LinkAttribute&, const LinkAttribute&) = default;
};

struct Link {
  std::string uri;  // the text between '<' and '>'
  std::vector<LinkAttribute> attributes;

  // The value of the first attribute `name`, or nullopt (also for bare flags).
  std::optional<std::string> attribute(std::string_view name) const;
  bool has_attribute(std::string_view name) const;
  friend bool operator==(const Link&, const Link&) = default;
};

// Parses a link-format document. Whitespace around separators is tolerated;
// quoted values may hold ',' ';' and escaped quotes. Errors give the byte
// offset: "link format at offset 12: expected '<'". An empty document is an
// empty list.
Result<std::vector<Link>> parse_link_format(std::string_view text);

// Writes links back; values are quoted when they are not plain tokens or
// when the attribute is conventionally quoted (rt, if, title).
std::string format_link_format(const std::vector<Link>& links);

}  // namespace fogm2m::lwm2m
