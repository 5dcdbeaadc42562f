#include "lwm2m/link_format.h"

#include <cctype>

namespace fogm2m::lwm2m {

namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Result<std::vector<Link>> parse() {
    std::vector<Link> links;
    skip_space();
    if (at_end()) return links;
    while (true) {
      auto link = parse_link();
      if (!link) return link.error();
      links.push_back(std::move(*link));
      skip_space();
      if (at_end()) return links;
      if (peek() != ',') return fail("expected ',' between links");
      ++pos_;
      skip_space();
    }
  }

 private:
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return s_[pos_]; }
  void skip_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\r' || peek() == '\n'))
      ++pos_;
  }
  Error fail(const std::string& why) const {
    return make_error(ErrorKind::kMalformed,
                      "link format at offset " + std::to_string(pos_) + ": " + why);
  }

  static bool is_token_char(char c) {
    // RFC 6690 ptoken characters, which cover numbers, names and paths.
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'()*+-./:<=>?@[]^_`{|}~").find(c) != std::string_view::npos;
  }
  static bool is_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == '*';
  }

  Result<Link> parse_link() {
    if (at_end() || peek() != '<') return fail("expected '<'");
    const size_t close = s_.find('>', pos_ + 1);
    if (close == std::string_view::npos) return fail("missing '>'");
    Link link;
    link.uri = std::string(s_.substr(pos_ + 1, close - pos_ - 1));
    for (char c : link.uri)
      if (c == '<' || c == ',' || c == '"' || std::isspace(static_cast<unsigned char>(c)))
        return fail("invalid character in URI \"" + link.uri + "\"");
    pos_ = close + 1;
    while (true) {
      skip_space();
      if (at_end() || peek() != ';') return link;
      ++pos_;
      skip_space();
      auto attr = parse_attribute();
      if (!attr) return attr.error();
      link.attributes.push_back(std::move(*attr));
    }
  }

  Result<LinkAttribute> parse_attribute() {
    const size_t start = pos_;
    while (!at_end() && is_name_char(peek())) ++pos_;
    if (pos_ == start) return fail("expected attribute name");
    LinkAttribute attr{std::string(s_.substr(start, pos_ - start)), std::nullopt};
    skip_space();
    if (at_end() || peek() != '=') return attr;
    ++pos_;
    skip_space();
    if (!at_end() && peek() == '"') {
      ++pos_;
      std::string value;
      while (true) {
        if (at_end()) return fail("unterminated quoted value of \"" + attr.name + "\"");
        char c = s_[pos_++];
        if (c == '"') break;
        if (c == '\\') {
          if (at_end()) return fail("unterminated escape in value of \"" + attr.name + "\"");
          c = s_[pos_++];
        }
        value.push_back(c);
      }
      attr.value = std::move(value);
      return attr;
    }
    const size_t vstart = pos_;
    while (!at_end() && is_token_char(peek())) ++pos_;
    if (pos_ == vstart) return fail("empty value of \"" + attr.name + "\"");
    attr.value = std::string(s_.substr(vstart, pos_ - vstart));
    return attr;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

bool needs_quotes(const LinkAttribute& a) {
  if (a.name == "rt" || a.name == "if" || a.name == "title" || a.name == "anchor" ||
      a.name == "rel")
    return true;
  if (a.value->empty()) return true;
  for (char c : *a.value)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_' &&
        c != ':' && c != '/')
      return true;
  return false;
}

}  // namespace

std::optional<std::string> Link::attribute(std::string_view name) const {
  for (const auto& a : attributes)
    if (a.name == name) return a.value;
  return std::nullopt;
}

bool Link::has_attribute(std::string_view name) const {
  for (const auto& a : attributes)
    if (a.name == name) return true;
  return false;
}

Result<std::vector<Link>> parse_link_format(std::string_view text) {
  return Parser(text).parse();
}

std::string format_link_format(const std::vector<Link>& links) {
  std::string out;
  for (size_t i = 0; i < links.size(); ++i) {
    if (i) out.push_back(',');
    out.push_back('<');
    out += links[i].uri;
    out.push_back('>');
    for (const auto& a : links[i].attributes) {
      out.push_back(';');
      out += a.name;
      if (!a.value) continue;
      out.push_back('=');
      if (!needs_quotes(a)) {
        out += *a.value;
        continue;
      }
      out.push_back('"');
      for (char c : *a.value) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
      }
      out.push_back('"');
    }
  }
  return out;
}

}  // namespace fogm2m::lwm2m
