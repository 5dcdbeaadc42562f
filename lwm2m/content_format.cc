#include "lwm2m/content_format.h"

#include <cctype>
#include <string>

namespace fogm2m::lwm2m {

namespace {

struct Entry {
  ContentFormat format;
  const char* name;
};

constexpr Entry kFormats[] = {
    {ContentFormat::kText, "TEXT"},
    {ContentFormat::kLinkFormat, "LINK"},
    {ContentFormat::kOpaque, "OPAQUE"},
    {ContentFormat::kCbor, "CBOR"},
    {ContentFormat::kSenmlJson, "SENML_JSON"},
    {ContentFormat::kSenmlCbor, "SENML_CBOR"},
    {ContentFormat::kTlv, "TLV"},
    {ContentFormat::kLwm2mJson, "JSON"},
    {ContentFormat::kLwm2mCbor, "LWM2M_CBOR"},
    {ContentFormat::kOldTlv, "OLD_TLV"},
    {ContentFormat::kOldJson, "OLD_JSON"},
};

}  // namespace

const char* to_name(ContentFormat format) {
  for (const auto& e : kFormats)
    if (e.format == format) return e.name;
  return "UNKNOWN";
}

std::optional<ContentFormat> parse_content_format(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(text[0]))) {
    uint32_t n = 0;
    for (char c : text) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || n > 65535) return std::nullopt;
      n = n * 10 + static_cast<uint32_t>(c - '0');
    }
    return content_format_from_number(n);
  }
  std::string up;
  for (char c : text)
    up.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  for (const auto& e : kFormats)
    if (up == e.name) return e.format;
  if (up == "PLAIN_TEXT" || up == "TEXT_PLAIN") return ContentFormat::kText;
  if (up == "LWM2M_JSON") return ContentFormat::kLwm2mJson;
  return std::nullopt;
}

std::optional<ContentFormat> content_format_from_number(uint32_t number) {
  for (const auto& e : kFormats)
    if (static_cast<uint32_t>(e.format) == number) return e.format;
  return std::nullopt;
}

}  // namespace fogm2m::lwm2m
