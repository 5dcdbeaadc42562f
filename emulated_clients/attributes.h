// Write-Attributes on an emulated device (LwM2M 1.1 TS-Core 5.1.2): what a
// server set on which path, and what is in force where. The observe engine
// (observations.h) reads them to decide when to notify; Discover shows them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lwm2m/path.h"

namespace fogm2m::emulated {

// The <NOTIFICATION> attributes of one path. Unset ones are absent.
struct Attributes {
  enum : uint8_t { kPmin = 1, kPmax = 2, kGt = 4, kLt = 8, kSt = 16, kEpmin = 32, kEpmax = 64 };
  uint8_t set = 0;                                    // which of the fields below are present
  uint32_t pmin = 0, pmax = 0, epmin = 0, epmax = 0;  // seconds
  double gt = 0, lt = 0, st = 0;
  bool has(uint8_t flag) const { return (set & flag) != 0; }
};

// Appends the attributes that are set as link attributes: ";pmin=10;gt=2.5".
void append_link_attributes(std::string& out, const Attributes& attributes);

class AttributeTable {
 public:
  // The attributes written at exactly `path`; null when none.
  const Attributes* at(const lwm2m::Path& path) const;

  // What is in force at `path`: the periods (pmin, pmax, epmin, epmax)
  // inherited resource > instance > object > `defaults` (the Server
  // object's); gt, lt and st only from `path` itself, when it is a
  // resource.
  Attributes effective(const lwm2m::Path& path, const Attributes& defaults) const;

  // Applies the Uri-Query of a Write-Attributes on `path` ("pmin=10",
  // "gt=2.5", a bare name clears it). gt, lt and st need a `numeric` target
  // (a single-instance numeric resource). Returns the CoAP code to answer:
  // 2.04, 4.00 for a bad or inconsistent attribute, 5.00 when the table is
  // full.
  uint8_t write(const lwm2m::Path& path, const std::vector<std::string_view>& queries,
                bool numeric);

  // Drops the attributes of `path` and everything below it (a deleted instance).
  void remove_under(const lwm2m::Path& path);

 private:
  struct Entry {
    lwm2m::Path path;
    Attributes attributes;
  };
  std::vector<Entry> entries_;
};

}  // namespace fogm2m::emulated
