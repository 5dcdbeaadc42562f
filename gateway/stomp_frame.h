// STOMP 1.2 frames, as the gateway reads them from and writes them to the
// WebSocket messages of browser clients (@stomp/stompjs and the like).
//
// One WebSocket message carries zero or more frames; an EOL ("\n" or "\r\n")
// before, between or after them is a heart-beat. A frame is a command line,
// header lines "name:value", a blank line and a body ended by NUL; with a
// content-length header the body is exactly that many octets and may hold
// NULs. Header names and values escape CR, LF, ':' and '\' as \r \n \c \\,
// save in CONNECT and CONNECTED frames, which stay readable by STOMP 1.0.
//
// Also here: the heart-beat and version negotiation of CONNECT/CONNECTED.
// The session that sends and times the frames is elsewhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lwm2m/result.h"

namespace fogm2m::gateway {

struct StompFrame {
  std::string command;  // "SEND", "MESSAGE", ...: a command of STOMP 1.2
  // In wire order, unescaped. A name may repeat; its first occurrence is the
  // one that counts (STOMP 1.2, "Repeated Header Entries").
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // any octets, NULs included

  // The value of the first header called `name` (case-sensitive), or nullptr.
  // The pointer lives as long as `headers` is not changed.
  const std::string* header(std::string_view name) const;

  bool operator==(const StompFrame&) const = default;
};

// What one message may hold. The frames parsed hold no more octets than the
// message; the limits bound their count and stop a peer early, with a clear
// error.
struct StompLimits {
  size_t max_frames = 64;             // frames in one message
  size_t max_headers = 64;            // header lines in one frame
  size_t max_header_line = 8192;      // octets of a command or header line, EOL excluded
  size_t max_body = size_t{1} << 20;  // octets of one body
};

// Parses every frame of one WebSocket message, in order; a message of
// heart-beats only (or empty) gives no frame.
//
// Accepts the 15 commands of STOMP 1.2 (client and server ones) and nothing
// else. A header line splits at its first ':'; the name must not be empty,
// the value may hold more ':' (as many servers accept). CR may appear only as
// part of an EOL, NUL not before the body. A content-length header (its first
// occurrence) is a decimal number of at most limits.max_body, and the body is
// exactly that long and followed by NUL. A body on a frame other than SEND,
// MESSAGE or ERROR, which the specification forbids, is returned as read: the
// session decides what to do with it.
//
// Any error is kMalformed, names the frame (from 1) and the line or header at
// fault, e.g. "stomp: frame 2: header line 3 has no ':'", and discards the
// whole message.
Result<std::vector<StompFrame>> parse_stomp_frames(std::string_view message,
                                                   const StompLimits& limits = {});

// The frame on the wire: command, headers, blank line, body, NUL; LF EOLs.
//
// Headers are escaped, save for CONNECT and CONNECTED, which cannot write a
// CR or LF in a name or value, nor a ':' in a name: the caller leaves them out.
// A content-length header is added after the caller's ones when a SEND,
// MESSAGE or ERROR frame has a body, or any frame's body holds a NUL; a
// content-length of the caller's is written with the body's true length.
// parse_stomp_frames() reads the result back equal to `frame`, save for that
// added content-length. `frame.command` must be a command of STOMP 1.2.
std::string format_stomp_frame(const StompFrame& frame);

// What a peer sends as a heart-beat: an EOL alone, between frames.
inline constexpr std::string_view kStompHeartBeat = "\n";

// The heart-beat header of CONNECT or CONNECTED, "<cx>,<cy>" in milliseconds:
// its sender can send something at least every cx ms (0: cannot) and wants to
// receive something at least every cy ms (0: does not).
struct HeartBeat {
  uint32_t cx = 0;
  uint32_t cy = 0;

  bool operator==(const HeartBeat&) const = default;
};

// Reads "cx,cy": two decimal numbers of at most 2^32-1, no sign, no spaces.
// kMalformed otherwise.
Result<HeartBeat> parse_heart_beat(std::string_view value);
// "cx,cy", as parse_heart_beat() reads it.
std::string format_heart_beat(HeartBeat heart_beat);

// The server's side of a connection's heart-beating; 0 means "never".
struct HeartBeatPlan {
  // The server sends a frame or a heart-beat at least this often.
  uint32_t send_ms = 0;
  // The client promised to send something at least this often; the server
  // may close the connection when nothing came for a while longer (the
  // specification leaves the tolerance to the receiver).
  uint32_t expect_ms = 0;

  bool operator==(const HeartBeatPlan&) const = default;
};

// STOMP 1.2 "Heart-beating", from the heart-beat header of the client's
// CONNECT and that of the server's CONNECTED: the server sends every
// max(server.cx, client.cy) ms and expects the client every
// max(client.cx, server.cy) ms, each only when both of its numbers are
// non-zero.
HeartBeatPlan negotiate_heart_beat(HeartBeat client, HeartBeat server);

// The version to put in CONNECTED for a CONNECT's accept-version header
// ("1.0,1.1,1.2"; nullptr when absent, which means 1.0 only): "1.2" when the
// client offers it, else "1.1" (the same framing, but for the \r escape),
// else nullopt: no version in common, and the server answers with an ERROR.
std::optional<std::string> negotiate_stomp_version(const std::string* accept_version);

}  // namespace fogm2m::gateway
