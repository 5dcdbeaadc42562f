#include "gateway/event_stream.h"

#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>

namespace fogm2m::gateway {

namespace beast = boost::beast;

EventStream::EventStream(beast::tcp_stream stream, std::weak_ptr<EventHub> hub,
                         std::string endpoint, std::shared_ptr<void> connection)
    : stream_(std::move(stream)),
      hub_(std::move(hub)),
      endpoint_(std::move(endpoint)),
      heartbeat_(stream_.get_executor()),
      connection_(std::move(connection)) {}

EventStream::~EventStream() {
  unsubscribe();
}

void EventStream::unsubscribe() {
  if (auto hub = hub_.lock()) hub->unsubscribe(subscription_);
  subscription_ = 0;
}

void EventStream::start() {
  stream_.expires_never();
  auto hub = hub_.lock();
  if (!hub) return;
  std::weak_ptr<EventStream> weak = weak_from_this();
  subscription_ = hub->subscribe(
      [weak](const GatewayEvent& e) {
        if (auto self = weak.lock()) self->push("event: " + e.name + "\ndata: " + e.data + "\n\n");
      },
      endpoint_);
  push(
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "X-Accel-Buffering: no\r\nConnection: keep-alive\r\n\r\n: fogm2m events\n\n");
  heartbeat();
  // The client sends nothing more; a read ends when it goes away.
  stream_.async_read_some(
      read_buffer_.prepare(512),
      [self = shared_from_this()](beast::error_code, size_t) { self->close(); });
}

void EventStream::push(std::string text) {
  if (closed_) return;
  queued_bytes_ += text.size();
  if (queued_bytes_ > kMaxQueuedBytes) return close();
  queue_.push_back(std::move(text));
  if (!writing_) write_next();
}

void EventStream::write_next() {
  if (queue_.empty() || closed_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  boost::asio::async_write(stream_, boost::asio::buffer(queue_.front()),
                           [self = shared_from_this()](beast::error_code ec, size_t) {
                             if (ec) return self->close();
                             self->queued_bytes_ -= self->queue_.front().size();
                             self->queue_.pop_front();
                             self->write_next();
                           });
}

void EventStream::heartbeat() {
  heartbeat_.expires_after(kHeartbeat);
  heartbeat_.async_wait([weak = weak_from_this()](beast::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->closed_) return;
    self->push(": heartbeat\n\n");
    self->heartbeat();
  });
}

void EventStream::close() {
  if (closed_) return;
  closed_ = true;
  unsubscribe();
  heartbeat_.cancel();
  beast::error_code ignored;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.close();
}

}  // namespace fogm2m::gateway
