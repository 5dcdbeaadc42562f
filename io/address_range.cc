#include "io/address_range.h"

#include <cstring>

namespace fogm2m::io {

namespace asio = boost::asio;

namespace {

uint64_t low64(const asio::ip::address_v6::bytes_type& b) {
  uint64_t v = 0;
  for (int i = 8; i < 16; ++i) v = (v << 8) | b[i];
  return v;
}

}  // namespace

asio::ip::address address_plus(const asio::ip::address& a, uint64_t k) {
  if (a.is_v4()) return asio::ip::address_v4(static_cast<uint32_t>(a.to_v4().to_uint() + k));
  auto bytes = a.to_v6().to_bytes();
  uint64_t low = low64(bytes) + k;
  for (int i = 15; i >= 8; --i, low >>= 8) bytes[i] = static_cast<uint8_t>(low & 0xff);
  return asio::ip::address_v6(bytes);
}

std::optional<uint64_t> address_offset(const asio::ip::address& first, const asio::ip::address& a) {
  if (first.is_v4()) {
    if (!a.is_v4()) return std::nullopt;
    const uint32_t f = first.to_v4().to_uint(), x = a.to_v4().to_uint();
    if (x < f) return std::nullopt;
    return x - f;
  }
  if (!a.is_v6()) return std::nullopt;
  const auto fb = first.to_v6().to_bytes(), xb = a.to_v6().to_bytes();
  if (std::memcmp(fb.data(), xb.data(), 8) != 0) return std::nullopt;
  const uint64_t f = low64(fb), x = low64(xb);
  if (x < f) return std::nullopt;
  return x - f;
}

Result<AddressRange> AddressRange::parse(const std::string& text) {
  const auto slash = text.find('/');
  auto bad = [&](const std::string& why) {
    return make_error(ErrorKind::kInvalidArgument, "address range \"" + text + "\": " + why);
  };
  if (slash == std::string::npos) return bad("expected ADDRESS/PREFIX, e.g. 127.64.0.0/10");
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(text.substr(0, slash), ec);
  if (ec) return bad("not an IP address");
  const std::string bits = text.substr(slash + 1);
  if (bits.empty() || bits.size() > 3 || bits.find_first_not_of("0123456789") != std::string::npos)
    return bad("the prefix length is not a number");
  const unsigned prefix = static_cast<unsigned>(std::stoul(bits));
  const unsigned width = address.is_v4() ? 32 : 128;
  if (prefix > width) return bad("prefix longer than the address");
  if (address.is_v6() && prefix < 64) return bad("IPv6 ranges need a prefix of at least 64 bits");
  AddressRange r{address, prefix};
  // Host bits must be zero.
  if (address.is_v4()) {
    const uint32_t host_mask = prefix == 32 ? 0 : (0xffffffffu >> prefix);
    if ((address.to_v4().to_uint() & host_mask) != 0) return bad("host bits are set");
  } else {
    const uint64_t host_mask = prefix == 128 ? 0 : (~uint64_t{0} >> (prefix - 64));
    if ((low64(address.to_v6().to_bytes()) & host_mask) != 0) return bad("host bits are set");
  }
  return r;
}

uint64_t AddressRange::size() const {
  const unsigned width = network.is_v4() ? 32 : 128;
  const unsigned host_bits = width - prefix;
  if (host_bits >= 63) return uint64_t{1} << 63;
  return uint64_t{1} << host_bits;
}

bool AddressRange::contains(const asio::ip::address& a) const {
  const auto k = address_offset(network, a);
  return k && *k < size();
}

std::string AddressRange::to_string() const {
  return network.to_string() + "/" + std::to_string(prefix);
}

}  // namespace fogm2m::io
