// STOMP 1.2 frames: what browser clients send parses, what the gateway
// writes reads back, every malformed message says why, limits hold.
#include "gateway/stomp_frame.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace fogm2m::gateway {
namespace {

using namespace std::string_literals;
using Headers = std::vector<std::pair<std::string, std::string>>;

// The frames of `message`, which must parse.
std::vector<StompFrame> parse_ok(std::string_view message, const StompLimits& limits = {}) {
  auto frames = parse_stomp_frames(message, limits);
  EXPECT_TRUE(frames.ok()) << frames.error().message;
  return frames.ok() ? std::move(frames).value() : std::vector<StompFrame>{};
}

// The error message of `message`, which must not parse.
std::string parse_error(std::string_view message, const StompLimits& limits = {}) {
  auto frames = parse_stomp_frames(message, limits);
  if (frames.ok()) return "<parsed " + std::to_string(frames->size()) + " frames>";
  EXPECT_EQ(frames.error().kind, ErrorKind::kMalformed);
  return frames.error().message;
}

TEST(StompFrame, SendWithoutContentLength) {
  auto frames = parse_ok("SEND\ndestination:/queue/a\ncontent-type:text/plain\n\nhello\0"s);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].command, "SEND");
  EXPECT_EQ(frames[0].headers,
            (Headers{{"destination", "/queue/a"}, {"content-type", "text/plain"}}));
  EXPECT_EQ(frames[0].body, "hello");
  ASSERT_NE(frames[0].header("destination"), nullptr);
  EXPECT_EQ(*frames[0].header("destination"), "/queue/a");
  EXPECT_EQ(frames[0].header("receipt"), nullptr);
  EXPECT_EQ(frames[0].header("Destination"), nullptr);  // names are case-sensitive
}

TEST(StompFrame, SendWithContentLength) {
  auto frames = parse_ok("SEND\ndestination:/queue/a\ncontent-length:5\n\nhello\0"s);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].body, "hello");
}

TEST(StompFrame, ContentLengthBodyMayHoldNuls) {
  auto frames = parse_ok("SEND\ndestination:/a\ncontent-length:7\n\na\0b\0\0cd\0"s);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].body, "a\0b\0\0cd"s);
  // And an empty body of content-length 0.
  frames = parse_ok("SEND\ncontent-length:0\n\n\0"s);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].body, "");
}

TEST(StompFrame, CrLfEols) {
  auto frames =
      parse_ok("\r\nSUBSCRIBE\r\nid:0\r\ndestination:/topic/x\r\nack:auto\r\n\r\n\0\r\n"s);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].command, "SUBSCRIBE");
  EXPECT_EQ(frames[0].headers,
            (Headers{{"id", "0"}, {"destination", "/topic/x"}, {"ack", "auto"}}));
  EXPECT_EQ(frames[0].body, "");
}

TEST(StompFrame, FramesAndHeartBeatsInOneMessage) {
  auto frames = parse_ok(
      "\n\r\n\nSEND\ndestination:/a\n\none\0\n\nSEND\r\ndestination:/b\r\ncontent-length:3\r\n\r\n"
      "two\0\r\n\nDISCONNECT\nreceipt:77\n\n\0\n"s);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].body, "one");
  EXPECT_EQ(*frames[1].header("destination"), "/b");
  EXPECT_EQ(frames[1].body, "two");
  EXPECT_EQ(frames[2].command, "DISCONNECT");
  EXPECT_EQ(*frames[2].header("receipt"), "77");
  // Frames back to back, without an EOL between them.
  EXPECT_EQ(parse_ok("ACK\nid:1\n\n\0NACK\nid:2\n\n\0"s).size(), 2u);
}

TEST(StompFrame, HeartBeatsOnlyGiveNoFrame) {
  for (std::string_view message : {"", "\n", "\r\n", "\n\n\r\n\n"})
    EXPECT_TRUE(parse_ok(message).empty()) << message;
}

TEST(StompFrame, EveryCommandIsKnown) {
  for (const char* command :
       {"CONNECT", "STOMP", "SEND", "SUBSCRIBE", "UNSUBSCRIBE", "ACK", "NACK", "BEGIN", "COMMIT",
        "ABORT", "DISCONNECT", "CONNECTED", "MESSAGE", "RECEIPT", "ERROR"}) {
    auto frames = parse_ok(std::string(command) + "\n\n\0"s);
    ASSERT_EQ(frames.size(), 1u) << command;
    EXPECT_EQ(frames[0].command, command);
    EXPECT_TRUE(frames[0].headers.empty());
  }
}

TEST(StompFrame, HeaderEscapesAreDecoded) {
  auto frames = parse_ok("MESSAGE\na\\cb:x\\ny\\rz\\\\w\\c\nempty:\n\n\0"s);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].headers, (Headers{{"a:b", "x\ny\rz\\w:"}, {"empty", ""}}));
}

TEST(StompFrame, HeaderEscapesAreWritten) {
  StompFrame frame{"MESSAGE", {{"a:b", "x\ny\rz\\w:"}}, ""};
  EXPECT_EQ(format_stomp_frame(frame), "MESSAGE\na\\cb:x\\ny\\rz\\\\w\\c\n\n\0"s);
}

TEST(StompFrame, ConnectAndConnectedAreNotEscaped) {
  auto frames = parse_ok(
      "CONNECT\naccept-version:1.2\nhost:a\\cb\nlogin:user:x\npasscode:a\\tb\n\n\0"
      "CONNECTED\nversion:1.2\nserver:fogm2m\\1\n\n\0"s);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].headers, (Headers{{"accept-version", "1.2"},
                                        {"host", "a\\cb"},
                                        {"login", "user:x"},
                                        {"passcode", "a\\tb"}}));
  EXPECT_EQ(*frames[1].header("server"), "fogm2m\\1");
  EXPECT_EQ(format_stomp_frame(frames[0]),
            "CONNECT\naccept-version:1.2\nhost:a\\cb\nlogin:user:x\npasscode:a\\tb\n\n\0"s);
  // STOMP, the other way to connect, is escaped as usual.
  frames = parse_ok("STOMP\nhost:a\\cb\n\n\0"s);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(*frames[0].header("host"), "a:b");
}

TEST(StompFrame, ValuesMayHoldRawColons) {
  auto frames = parse_ok("SEND\ndestination:/a:b:c\n\n\0"s);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(*frames[0].header("destination"), "/a:b:c");
}

TEST(StompFrame, FirstRepeatedHeaderWins) {
  auto frames =
      parse_ok("MESSAGE\nfoo:World\nfoo:Hello\ncontent-length:2\ncontent-length:9\n\nab\0"s);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(*frames[0].header("foo"), "World");
  EXPECT_EQ(frames[0].body, "ab");
  EXPECT_EQ(frames[0].headers.size(), 4u);  // every occurrence is kept, in order
}

TEST(StompFrame, MalformedMessagesSayWhy) {
  struct Case {
    std::string message;
    const char* error;
  };
  const Case cases[] = {
      {"FOO\n\n\0"s, "stomp: frame 1: unknown command \"FOO\""},
      {"send\n\n\0"s, "stomp: frame 1: unknown command \"send\""},
      {"SEND \n\n\0"s, "stomp: frame 1: unknown command \"SEND \""},
      {"\0"s, "stomp: frame 1: unknown command \"\\x00\""},
      {"\r"s, "stomp: frame 1: unknown command \"\""},
      {"SEND"s, "stomp: frame 1: message ends after command SEND without an EOL"},
      {"ACK\nid:1\n\n\0SEND\na:1\nb:2\nnocolon\n\n\0"s, "stomp: frame 2: header line 3 has no ':'"},
      {"SEND\n:value\n\n\0"s, "stomp: frame 1: header line 1 has an empty name"},
      {"SEND\ndestination:/a\n"s, "stomp: frame 1: message ends inside header line 2"},
      {"SEND\ndestination:/a"s, "stomp: frame 1: message ends inside header line 1"},
      {"SEND\ndestination:/a\n\0"s,
       "stomp: frame 1: NUL in header line 2: the frame ends before the blank line after its "
       "headers"},
      {"SEND\na:b\rc\n\n\0"s,
       "stomp: frame 1: header line 1 holds a CR that is not part of its EOL"},
      {"SEND\na:b\tc\\t\n\n\0"s, "stomp: frame 1: invalid escape \\t in header line 1"},
      {"SEND\na\\x:b\n\n\0"s, "stomp: frame 1: invalid escape \\x in header line 1"},
      {"SEND\na:b\\\n\n\0"s,
       "stomp: frame 1: incomplete escape '\\' at the end of a name or value in header line 1"},
      {"SEND\ncontent-length:12\n\nhello world!X"s,
       "stomp: frame 1: missing NUL after body of content-length 12"},
      {"SEND\ncontent-length:12\n\nhello world!"s,
       "stomp: frame 1: missing NUL after body of content-length 12"},
      {"SEND\ncontent-length:12\n\nhello\0"s,
       "stomp: frame 1: body of content-length 12 runs past the end of the message (6 octets "
       "left)"},
      {"SEND\ncontent-length:-1\n\n\0"s,
       "stomp: frame 1: content-length \"-1\" is not a decimal number"},
      {"SEND\ncontent-length: 1\n\nx\0"s,
       "stomp: frame 1: content-length \" 1\" is not a decimal number"},
      {"SEND\ncontent-length:\n\n\0"s,
       "stomp: frame 1: content-length \"\" is not a decimal number"},
      {"SEND\ncontent-length:99999999999999999999999\n\n\0"s,
       "stomp: frame 1: content-length 99999999999999999999999 exceeds the limit of 1048576 "
       "octets"},
      {"SEND\ndestination:/a\n\nno end"s, "stomp: frame 1: missing NUL at the end of the frame"},
  };
  for (const Case& c : cases) EXPECT_EQ(parse_error(c.message), c.error) << c.message;
}

TEST(StompFrame, OneBadFrameFailsTheWholeMessage) {
  EXPECT_EQ(parse_error("SEND\n\nok\0\nBOGUS\n\n\0"s), "stomp: frame 2: unknown command \"BOGUS\"");
}

TEST(StompFrame, UnknownCommandIsShownPrintableAndShort) {
  const std::string error = parse_error(std::string(100, 'X') + "\x01\n\n\0"s);
  EXPECT_EQ(error, "stomp: frame 1: unknown command \"" + std::string(32, 'X') + "...\"");
}

TEST(StompFrame, LimitOnFrames) {
  StompLimits limits;
  limits.max_frames = 2;
  EXPECT_EQ(parse_ok("ACK\n\n\0ACK\n\n\0\n"s, limits).size(), 2u);
  EXPECT_EQ(parse_error("ACK\n\n\0ACK\n\n\0ACK\n\n\0"s, limits),
            "stomp: more than 2 frames in one message");
}

TEST(StompFrame, LimitOnHeaders) {
  StompLimits limits;
  limits.max_headers = 2;
  EXPECT_EQ(parse_ok("SEND\na:1\nb:2\n\n\0"s, limits).size(), 1u);
  EXPECT_EQ(parse_error("SEND\na:1\nb:2\nc:3\n\n\0"s, limits),
            "stomp: frame 1: more than 2 headers");
}

TEST(StompFrame, LimitOnHeaderLines) {
  StompLimits limits;
  limits.max_header_line = 8;
  EXPECT_EQ(parse_ok("SEND\nabc:1234\r\n\n\0"s, limits).size(), 1u);  // 8 octets, then CR LF
  EXPECT_EQ(parse_error("SEND\nabc:12345\n\n\0"s, limits),
            "stomp: frame 1: header line 1 is longer than 8 octets");
  // A long line is refused without looking for its end.
  EXPECT_EQ(parse_error("SEND\n" + std::string(100000, 'a'), limits),
            "stomp: frame 1: header line 1 is longer than 8 octets");
  EXPECT_EQ(parse_error("SUBSCRIBE\n\n\0"s, limits),
            "stomp: frame 1: command line is longer than 8 octets");
}

TEST(StompFrame, DefaultLimitOnHeaderLines) {
  const std::string value(8192 - 2, 'v');
  EXPECT_EQ(parse_ok("SEND\na:" + value + "\n\n\0"s).size(), 1u);
  EXPECT_EQ(parse_error("SEND\na:" + value + "v\n\n\0"s),
            "stomp: frame 1: header line 1 is longer than 8192 octets");
}

TEST(StompFrame, LimitOnBody) {
  StompLimits limits;
  limits.max_body = 4;
  EXPECT_EQ(parse_ok("SEND\n\nabcd\0"s, limits)[0].body, "abcd");
  EXPECT_EQ(parse_ok("SEND\ncontent-length:4\n\nab\0d\0"s, limits)[0].body, "ab\0d"s);
  EXPECT_EQ(parse_error("SEND\n\nabcde\0"s, limits),
            "stomp: frame 1: body is longer than 4 octets");
  EXPECT_EQ(parse_error("SEND\n\n" + std::string(100000, 'b'), limits),
            "stomp: frame 1: body is longer than 4 octets");
  EXPECT_EQ(parse_error("SEND\ncontent-length:5\n\nabcde\0"s, limits),
            "stomp: frame 1: content-length 5 exceeds the limit of 4 octets");
}

TEST(StompFrame, FormatAddsContentLengthToBodies) {
  EXPECT_EQ(format_stomp_frame({"SEND", {{"destination", "/a"}}, "hi"}),
            "SEND\ndestination:/a\ncontent-length:2\n\nhi\0"s);
  EXPECT_EQ(format_stomp_frame({"ERROR", {{"message", "bad"}}, "why"}),
            "ERROR\nmessage:bad\ncontent-length:3\n\nwhy\0"s);
  EXPECT_EQ(format_stomp_frame({"MESSAGE", {{"content-length", "1"}, {"x", "y"}}, "z"}),
            "MESSAGE\ncontent-length:1\nx:y\n\nz\0"s);
  // No body, no content-length; a frame without a body needs none either.
  EXPECT_EQ(format_stomp_frame({"MESSAGE", {}, ""}), "MESSAGE\n\n\0"s);
  EXPECT_EQ(format_stomp_frame({"RECEIPT", {{"receipt-id", "7"}}, ""}),
            "RECEIPT\nreceipt-id:7\n\n\0"s);
  // Unless its body holds a NUL, which only a content-length can frame.
  EXPECT_EQ(format_stomp_frame({"RECEIPT", {}, "a\0b"s}), "RECEIPT\ncontent-length:3\n\na\0b\0"s);
}

TEST(StompFrame, FormatCorrectsAWrongContentLength) {
  EXPECT_EQ(format_stomp_frame({"SEND", {{"content-length", "99"}, {"content-length", "5"}}, "ab"}),
            "SEND\ncontent-length:2\ncontent-length:5\n\nab\0"s);
  EXPECT_EQ(format_stomp_frame({"SEND", {{"content-length", "x"}}, ""}),
            "SEND\ncontent-length:0\n\n\0"s);
  EXPECT_EQ(format_stomp_frame({"SEND", {{"content-length", "002"}}, "ab"}),
            "SEND\ncontent-length:002\n\nab\0"s);
}

TEST(StompFrame, FormatThenParseGivesTheFrameBack) {
  const StompFrame frames[] = {
      {"CONNECT",
       {{"accept-version", "1.1,1.2"}, {"host", "/"}, {"heart-beat", "10000,10000"}},
       ""},
      {"CONNECTED", {{"version", "1.2"}, {"heart-beat", "0,0"}, {"server", "fogm2m/1"}}, ""},
      {"SUBSCRIBE", {{"id", "sub-0"}, {"destination", "/topic/dev:1\\x\n"}}, ""},
      {"SEND", {{"destination", "/a"}, {"content-length", "3"}}, "a\0b"s},
      {"MESSAGE", {{"subscription", "s"}, {"weird\r\nname:", "v"}}, "{\"x\":1}"},
      {"ERROR", {{"message", "malformed frame"}}, std::string(1000, '\0')},
      {"RECEIPT", {{"receipt-id", "77"}}, ""},
      {"DISCONNECT", {}, ""},
  };
  std::string message;
  for (const StompFrame& frame : frames) {
    const std::string text = format_stomp_frame(frame);
    message += text;
    message += kStompHeartBeat;
    auto again = parse_ok(text);
    ASSERT_EQ(again.size(), 1u) << text;
    StompFrame expected = frame;
    if (!frame.body.empty() && !frame.header("content-length"))
      expected.headers.emplace_back("content-length", std::to_string(frame.body.size()));
    EXPECT_EQ(again[0], expected) << text;
  }
  // All of them in one message, heart-beats between.
  EXPECT_EQ(parse_ok(message).size(), std::size(frames));
}

TEST(StompFrame, ParseThenFormatGivesTheTextBack) {
  const std::string texts[] = {
      "SEND\ndestination:/a\\c\\\\\ncontent-length:5\n\nhello\0"s,
      "CONNECT\nlogin:a:b\\c\n\n\0"s,
      "ACK\nid:1\n\n\0"s,
  };
  for (const std::string& text : texts) {
    auto frames = parse_ok(text);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(format_stomp_frame(frames[0]), text);
  }
}

TEST(StompHeartBeat, Parses) {
  auto hb = parse_heart_beat("10000,20000");
  ASSERT_TRUE(hb.ok()) << hb.error().message;
  EXPECT_EQ(*hb, (HeartBeat{10000, 20000}));
  EXPECT_EQ(*parse_heart_beat("0,0"), (HeartBeat{0, 0}));
  EXPECT_EQ(*parse_heart_beat("4294967295,007"), (HeartBeat{4294967295u, 7}));
  EXPECT_EQ(format_heart_beat({5, 0}), "5,0");
}

TEST(StompHeartBeat, MalformedSaysWhy) {
  struct Case {
    const char* value;
    const char* error;
  };
  for (const Case& c : {
           Case{"", "stomp: heart-beat \"\" is not \"<cx>,<cy>\""},
           Case{"100", "stomp: heart-beat \"100\" is not \"<cx>,<cy>\""},
           Case{",1", "stomp: heart-beat \",1\" is not \"<cx>,<cy>\""},
           Case{"1,", "stomp: heart-beat \"1,\" is not \"<cx>,<cy>\""},
           Case{"-1,0", "stomp: heart-beat \"-1,0\" is not \"<cx>,<cy>\""},
           Case{"1, 2", "stomp: heart-beat \"1, 2\" is not \"<cx>,<cy>\""},
           Case{"1,2,3", "stomp: heart-beat \"1,2,3\" is not \"<cx>,<cy>\""},
           Case{"4294967296,0", "stomp: heart-beat \"4294967296,0\" has a number above 4294967295"},
       }) {
    auto hb = parse_heart_beat(c.value);
    ASSERT_FALSE(hb.ok()) << c.value;
    EXPECT_EQ(hb.error().kind, ErrorKind::kMalformed);
    EXPECT_EQ(hb.error().message, c.error);
  }
}

TEST(StompHeartBeat, NegotiationTable) {
  struct Case {
    HeartBeat client, server;
    HeartBeatPlan plan;
  };
  for (const Case& c : {
           Case{{0, 0}, {0, 0}, {0, 0}},
           Case{{0, 0}, {5000, 5000}, {0, 0}},  // the client wants none, sends none
           Case{{5000, 5000}, {0, 0}, {0, 0}},  // the server can send none, wants none
           Case{{10000, 10000}, {5000, 5000}, {10000, 10000}},
           Case{{1000, 20000}, {5000, 5000}, {20000, 5000}},
           Case{{1000, 0}, {5000, 3000}, {0, 3000}},  // the client wants none
           Case{{0, 1000}, {5000, 3000}, {5000, 0}},  // the client sends none
           Case{{1000, 1000}, {5000, 0}, {5000, 0}},  // the server checks nothing
           Case{{1000, 1000}, {0, 4000}, {0, 4000}},  // the server sends nothing
       }) {
    EXPECT_EQ(negotiate_heart_beat(c.client, c.server), c.plan)
        << format_heart_beat(c.client) << " / " << format_heart_beat(c.server);
  }
}

TEST(StompVersion, Negotiation) {
  struct Case {
    const char* accept_version;  // nullptr: no header
    std::optional<std::string> version;
  };
  for (const Case& c : {
           Case{"1.0,1.1,1.2", "1.2"},
           Case{"1.2,1.1,1.0", "1.2"},
           Case{"1.2", "1.2"},
           Case{"1.1", "1.1"},
           Case{"1.0,1.1", "1.1"},
           Case{"1.0, 1.1 ", "1.1"},
           Case{"1.0", std::nullopt},
           Case{"2.0,1.3", std::nullopt},
           Case{"", std::nullopt},
           Case{"1.20", std::nullopt},
           Case{nullptr, std::nullopt},
       }) {
    const std::optional<std::string> header =
        c.accept_version ? std::optional<std::string>(c.accept_version) : std::nullopt;
    EXPECT_EQ(negotiate_stomp_version(header ? &*header : nullptr), c.version)
        << (c.accept_version ? c.accept_version : "(absent)");
  }
}

}  // namespace
}  // namespace fogm2m::gateway
