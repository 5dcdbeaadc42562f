#include "gateway/stomp_frame.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>

namespace fogm2m::gateway {

namespace {

constexpr std::string_view kCommands[] = {
    // client
    "CONNECT", "STOMP", "SEND", "SUBSCRIBE", "UNSUBSCRIBE", "ACK", "NACK", "BEGIN", "COMMIT",
    "ABORT", "DISCONNECT",
    // server
    "CONNECTED", "MESSAGE", "RECEIPT", "ERROR"};

bool is_known_command(std::string_view text) {
  return std::find(std::begin(kCommands), std::end(kCommands), text) != std::end(kCommands);
}

// CONNECT and CONNECTED stay readable by STOMP 1.0 peers, which know no
// escapes (STOMP 1.2, "Value Encoding").
bool escapes_headers(std::string_view command) {
  return command != "CONNECT" && command != "CONNECTED";
}

// The frames that may carry a body (STOMP 1.2, "Body").
bool may_have_body(std::string_view command) {
  return command == "SEND" || command == "MESSAGE" || command == "ERROR";
}

// `text` fit for an error message: at most 32 octets, the others as \xNN.
std::string printable(std::string_view text) {
  constexpr size_t kMax = 32;
  std::string out;
  for (char c : text.substr(0, kMax)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
      out += c;
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    }
  }
  if (text.size() > kMax) out += "...";
  return out;
}

// `a + b`, or the largest size_t when that overflows (limits may be huge).
size_t saturating_add(size_t a, size_t b) {
  return a > std::numeric_limits<size_t>::max() - b ? std::numeric_limits<size_t>::max() : a + b;
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A decimal number of digits only, at most `max`; nullopt when larger.
std::optional<uint64_t> parse_digits(std::string_view digits, uint64_t max) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || value > max) return std::nullopt;
  return value;
}

// Reads the frames of one message, front to back; see parse_stomp_frames().
class MessageParser {
 public:
  MessageParser(std::string_view message, const StompLimits& limits)
      : s_(message), limits_(limits) {}

  Result<std::vector<StompFrame>> parse() {
    std::vector<StompFrame> frames;
    while (true) {
      skip_heart_beats();
      if (pos_ == s_.size()) return frames;
      if (frames.size() == limits_.max_frames)
        return make_error(
            ErrorKind::kMalformed,
            "stomp: more than " + std::to_string(limits_.max_frames) + " frames in one message");
      frame_number_ = frames.size() + 1;
      auto frame = parse_frame();
      if (!frame) return frame.error();
      frames.push_back(std::move(*frame));
    }
  }

 private:
  // A line at pos_, its EOL stripped. Incomplete when no LF came within
  // max_header_line + 2 octets (the line, CR, LF) or before the end of the
  // message; then `text` is what was there and pos_ has not moved.
  struct Line {
    std::string_view text;
    bool complete = false;
  };

  Error fail(const std::string& why) const {
    return make_error(ErrorKind::kMalformed,
                      "stomp: frame " + std::to_string(frame_number_) + ": " + why);
  }

  void skip_heart_beats() {
    while (pos_ < s_.size()) {
      if (s_[pos_] == '\n') {
        ++pos_;
      } else if (s_[pos_] == '\r' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '\n') {
        pos_ += 2;
      } else {
        return;
      }
    }
  }

  Line read_line() {
    const size_t window = std::min(s_.size() - pos_, saturating_add(limits_.max_header_line, 2));
    const std::string_view rest = s_.substr(pos_, window);
    const size_t lf = rest.find('\n');
    Line line{rest.substr(0, lf), lf != std::string_view::npos};
    if (!line.text.empty() && line.text.back() == '\r') line.text.remove_suffix(1);
    if (line.complete) pos_ += lf + 1;
    return line;
  }

  Result<StompFrame> parse_frame() {
    StompFrame frame;
    const Line command = read_line();
    if (!is_known_command(command.text))
      return fail("unknown command \"" + printable(command.text) + "\"");
    if (command.text.size() > limits_.max_header_line)
      return fail("command line is longer than " + std::to_string(limits_.max_header_line) +
                  " octets");
    if (!command.complete)
      return fail("message ends after command " + std::string(command.text) + " without an EOL");
    frame.command = command.text;

    if (Status s = parse_headers(frame); !s) return s.error();
    if (Status s = parse_body(frame); !s) return s.error();
    return frame;
  }

  // Header lines up to and including the blank line.
  Status parse_headers(StompFrame& frame) {
    const bool escaped = escapes_headers(frame.command);
    for (size_t number = 1;; ++number) {
      const Line line = read_line();
      const std::string where = "header line " + std::to_string(number);
      if (line.text.find('\0') != std::string_view::npos)
        return fail("NUL in " + where + ": the frame ends before the blank line after its headers");
      if (line.text.size() > limits_.max_header_line)
        return fail(where + " is longer than " + std::to_string(limits_.max_header_line) +
                    " octets");
      if (!line.complete) return fail("message ends inside " + where);
      if (line.text.empty()) return {};
      if (number > limits_.max_headers)
        return fail("more than " + std::to_string(limits_.max_headers) + " headers");
      if (line.text.find('\r') != std::string_view::npos)
        return fail(where + " holds a CR that is not part of its EOL");
      const size_t colon = line.text.find(':');
      if (colon == std::string_view::npos) return fail(where + " has no ':'");
      if (colon == 0) return fail(where + " has an empty name");
      const std::string_view name = line.text.substr(0, colon);
      const std::string_view value = line.text.substr(colon + 1);
      if (!escaped) {
        frame.headers.emplace_back(name, value);
        continue;
      }
      auto n = unescape(name, where);
      if (!n) return n.error();
      auto v = unescape(value, where);
      if (!v) return v.error();
      frame.headers.emplace_back(std::move(*n), std::move(*v));
    }
  }

  // Decodes the escapes \r \n \c \\ of a header name or value.
  Result<std::string> unescape(std::string_view text, const std::string& where) const {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '\\') {
        out += text[i];
        continue;
      }
      if (++i == text.size())
        return fail("incomplete escape '\\' at the end of a name or value in " + where);
      switch (text[i]) {
        case 'r':
          out += '\r';
          break;
        case 'n':
          out += '\n';
          break;
        case 'c':
          out += ':';
          break;
        case '\\':
          out += '\\';
          break;
        default:
          return fail("invalid escape \\" + printable(text.substr(i, 1)) + " in " + where);
      }
    }
    return out;
  }

  // The body after the blank line, and its NUL.
  Status parse_body(StompFrame& frame) {
    const size_t remaining = s_.size() - pos_;
    if (const std::string* length_text = frame.header("content-length")) {
      if (!all_digits(*length_text))
        return fail("content-length \"" + printable(*length_text) + "\" is not a decimal number");
      const auto length = parse_digits(*length_text, limits_.max_body);
      if (!length)
        return fail("content-length " + printable(*length_text) + " exceeds the limit of " +
                    std::to_string(limits_.max_body) + " octets");
      // length <= max_body, a size_t: the casts below keep its value.
      const auto size = static_cast<size_t>(*length);
      if (size > remaining)
        return fail("body of content-length " + std::to_string(size) +
                    " runs past the end of the message (" + std::to_string(remaining) +
                    " octets left)");
      if (size == remaining || s_[pos_ + size] != '\0')
        return fail("missing NUL after body of content-length " + std::to_string(size));
      frame.body = s_.substr(pos_, size);
      pos_ += size + 1;
      return {};
    }
    const size_t window = std::min(remaining, saturating_add(limits_.max_body, 1));
    const size_t nul = s_.substr(pos_, window).find('\0');
    if (nul == std::string_view::npos) {
      if (window > limits_.max_body)
        return fail("body is longer than " + std::to_string(limits_.max_body) + " octets");
      return fail("missing NUL at the end of the frame");
    }
    frame.body = s_.substr(pos_, nul);
    pos_ += nul + 1;
    return {};
  }

  std::string_view s_;
  const StompLimits& limits_;
  size_t pos_ = 0;
  size_t frame_number_ = 0;
};

// Appends `text` to `out` with CR, LF, ':' and '\' escaped.
void append_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n";
        break;
      case ':':
        out += "\\c";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        out += c;
    }
  }
}

Error bad_heart_beat(std::string_view value, const std::string& why) {
  return make_error(ErrorKind::kMalformed, "stomp: heart-beat \"" + printable(value) + "\" " + why);
}

}  // namespace

const std::string* StompFrame::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (n == name) return &v;
  return nullptr;
}

Result<std::vector<StompFrame>> parse_stomp_frames(std::string_view message,
                                                   const StompLimits& limits) {
  return MessageParser(message, limits).parse();
}

std::string format_stomp_frame(const StompFrame& frame) {
  const bool escaped = escapes_headers(frame.command);
  const bool needs_length = (!frame.body.empty() && may_have_body(frame.command)) ||
                            frame.body.find('\0') != std::string::npos;
  const std::string length = std::to_string(frame.body.size());
  std::string out;
  out.reserve(frame.command.size() + 64 + frame.body.size());
  out += frame.command;
  out += '\n';
  bool wrote_length = false;
  for (const auto& [name, value] : frame.headers) {
    if (escaped) {
      append_escaped(out, name);
    } else {
      out += name;
    }
    out += ':';
    if (!wrote_length && name == "content-length") {
      // The first content-length is the one the reader goes by: a wrong one
      // would make it read into the next frame. A right one stays as given
      // ("007" too), so that a parsed frame formats back as it was.
      const auto given = all_digits(value) ? parse_digits(value, frame.body.size()) : std::nullopt;
      out += given == frame.body.size() ? value : length;
      wrote_length = true;
    } else if (escaped) {
      append_escaped(out, value);
    } else {
      out += value;
    }
    out += '\n';
  }
  if (needs_length && !wrote_length) {
    out += "content-length:";
    out += length;
    out += '\n';
  }
  out += '\n';
  out += frame.body;
  out += '\0';
  return out;
}

Result<HeartBeat> parse_heart_beat(std::string_view value) {
  const size_t comma = value.find(',');
  if (comma == std::string_view::npos) return bad_heart_beat(value, "is not \"<cx>,<cy>\"");
  const std::string_view parts[] = {value.substr(0, comma), value.substr(comma + 1)};
  uint32_t numbers[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    if (!all_digits(parts[i])) return bad_heart_beat(value, "is not \"<cx>,<cy>\"");
    const auto n = parse_digits(parts[i], std::numeric_limits<uint32_t>::max());
    if (!n) return bad_heart_beat(value, "has a number above 4294967295");
    numbers[i] = static_cast<uint32_t>(*n);
  }
  return HeartBeat{numbers[0], numbers[1]};
}

std::string format_heart_beat(HeartBeat heart_beat) {
  return std::to_string(heart_beat.cx) + "," + std::to_string(heart_beat.cy);
}

HeartBeatPlan negotiate_heart_beat(HeartBeat client, HeartBeat server) {
  HeartBeatPlan plan;
  if (server.cx != 0 && client.cy != 0) plan.send_ms = std::max(server.cx, client.cy);
  if (client.cx != 0 && server.cy != 0) plan.expect_ms = std::max(client.cx, server.cy);
  return plan;
}

std::optional<std::string> negotiate_stomp_version(const std::string* accept_version) {
  if (accept_version == nullptr) return std::nullopt;
  bool offers_1_1 = false;
  bool offers_1_2 = false;
  std::string_view rest = *accept_version;
  while (true) {
    const size_t comma = rest.find(',');
    std::string_view version = rest.substr(0, comma);
    // Spaces around a version are not in the grammar, but harmless.
    while (!version.empty() && (version.front() == ' ' || version.front() == '\t'))
      version.remove_prefix(1);
    while (!version.empty() && (version.back() == ' ' || version.back() == '\t'))
      version.remove_suffix(1);
    offers_1_1 = offers_1_1 || version == "1.1";
    offers_1_2 = offers_1_2 || version == "1.2";
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (offers_1_2) return "1.2";
  if (offers_1_1) return "1.1";
  return std::nullopt;
}

}  // namespace fogm2m::gateway
