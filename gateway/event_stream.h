// One Server-Sent Events stream (GET /api/event[?ep=X]): the gateway's live
// events (event_hub.h) as "event: NAME\ndata: JSON\n\n" frames, with a
// comment line as heartbeat every 10 s so proxies and clients see the
// stream alive. A client that reads slower than events come (more than
// kMaxQueuedBytes waiting) is cut off rather than let grow the gateway's
// memory; EventSource reconnects on its own.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include "gateway/event_hub.h"

namespace fogm2m::gateway {

class EventStream : public std::enable_shared_from_this<EventStream> {
 public:
  static constexpr size_t kMaxQueuedBytes = 4 << 20;
  static constexpr std::chrono::seconds kHeartbeat{10};

  // `endpoint` empty: every endpoint's events.
  // The hub may end first (the gateway stops while streams are open).
  EventStream(boost::beast::tcp_stream stream, std::weak_ptr<EventHub> hub, std::string endpoint,
              std::shared_ptr<void> connection);
  ~EventStream();
  void start();

 private:
  void push(std::string text);
  void write_next();
  void heartbeat();
  void close();
  void unsubscribe();

  boost::beast::tcp_stream stream_;
  std::weak_ptr<EventHub> hub_;
  std::string endpoint_;
  uint64_t subscription_ = 0;
  boost::asio::steady_timer heartbeat_;
  boost::beast::flat_buffer read_buffer_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool closed_ = false;
  std::shared_ptr<void> connection_;  // counts this connection as open (http_server.h)
};

}  // namespace fogm2m::gateway
