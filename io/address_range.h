// A range of IP addresses written as CIDR ("127.64.0.0/10", "fd00:77::/64")
// and the arithmetic on addresses that numbering devices by address needs.
// IPv6 offsets work on the low 64 bits (a /64 or longer prefix).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "lwm2m/result.h"

namespace fogm2m::io {

// `a` + k (IPv6: the low 64 bits, wrapping there).
boost::asio::ip::address address_plus(const boost::asio::ip::address& a, uint64_t k);

// k such that `first` + k == `a`, when both are of one family (and, IPv6,
// share the high 64 bits) and `a` is not below `first`.
std::optional<uint64_t> address_offset(const boost::asio::ip::address& first,
                                       const boost::asio::ip::address& a);

struct AddressRange {
  boost::asio::ip::address network;  // host bits zero
  unsigned prefix = 0;

  // "A.B.C.D/N" or "X:Y::/N" (IPv6 prefixes of at least 64 bits' network
  // part count addresses in the low 64 bits). kInvalidArgument with the
  // reason otherwise; host bits set are an error, so a typo does not
  // silently move the range.
  static Result<AddressRange> parse(const std::string& text);

  // Addresses in the range, the network and the last one included (capped
  // at 2^63 for huge IPv6 ranges).
  uint64_t size() const;
  // The k-th address (k < size()).
  boost::asio::ip::address at(uint64_t k) const { return address_plus(network, k); }
  bool contains(const boost::asio::ip::address& a) const;
  std::string to_string() const;
};

}  // namespace fogm2m::io
