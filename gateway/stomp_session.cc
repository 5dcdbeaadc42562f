#include "gateway/stomp_session.h"

#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <deque>
#include <map>

#include "gateway/stomp_frame.h"

namespace fogm2m::gateway {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr HeartBeat kServerHeartBeat{10000, 10000};
constexpr size_t kMaxQueuedBytes = 4 << 20;
constexpr std::string_view kRequestDestination = "/app/request";
constexpr std::string_view kResponses = "/queue/responses";
constexpr std::string_view kUserResponses = "/user/queue/responses";
constexpr std::string_view kRegistrationTopic = "/topic/registration";
constexpr std::string_view kNotificationTopic = "/topic/notification";

// The subprotocol to answer with: the first STOMP one the client offers.
std::string pick_subprotocol(std::string_view offered) {
  for (std::string_view ours : {"v12.stomp", "v11.stomp", "v10.stomp"})
    if (offered.find(ours) != std::string_view::npos) return std::string(ours);
  return {};
}

// A bus reply for the client: its own ticket in place of the gateway's.
std::string client_reply(const std::string& ticket, const char* type, json::value body) {
  json::object o{{"ticket", ticket}};
  o[type] = std::move(body);
  return json::serialize(o);
}

// An observation this session made: cancelled at the device when the
// session ends.
struct Observed {
  std::string gw_ticket;
  std::string endpoint;
  lwm2m::Path path;
};

class StompSession : public std::enable_shared_from_this<StompSession> {
 public:
  StompSession(beast::tcp_stream stream, bool authenticated, const StompContext& context,
               ConnectionToken connection)
      : ws_(std::move(stream)),
        context_(context),
        authenticated_(authenticated),
        send_timer_(ws_.get_executor()),
        idle_timer_(ws_.get_executor()),
        connection_(std::move(connection)) {}

  ~StompSession() { release(); }

  void run(HttpRequest upgrade) {
    const std::string protocol =
        pick_subprotocol(std::string_view(upgrade[http::field::sec_websocket_protocol]));
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator([protocol](websocket::response_type& res) {
      res.set(http::field::server, "fogm2m-gateway");
      if (!protocol.empty()) res.set(http::field::sec_websocket_protocol, protocol);
    }));
    ws_.read_message_max(StompLimits{}.max_body + 64 * 1024);
    ws_.async_accept(upgrade, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->last_in_ = Clock::now();
      self->read();
    });
  }

 private:
  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->release();
      self->last_in_ = Clock::now();
      std::string message = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      self->handle(message);
      if (!self->closing_) self->read();
    });
  }

  void handle(std::string_view message) {
    auto frames = parse_stomp_frames(message);
    if (!frames) return error_and_close(frames.error().message, nullptr);
    for (const StompFrame& f : *frames) {
      if (closing_) return;
      handle_frame(f);
    }
  }

  void handle_frame(const StompFrame& f) {
    if (!connected_) {
      if (f.command != "CONNECT" && f.command != "STOMP")
        return error_and_close("the first frame must be CONNECT, not " + f.command, &f);
      return connect(f);
    }
    if (f.command == "SEND") {
      send(f);
    } else if (f.command == "SUBSCRIBE") {
      subscribe(f);
    } else if (f.command == "UNSUBSCRIBE") {
      unsubscribe(f);
    } else if (f.command == "DISCONNECT") {
      receipt(f);
      closing_ = true;
      return flush();
    } else if (f.command == "ACK" || f.command == "NACK" || f.command == "BEGIN" ||
               f.command == "COMMIT" || f.command == "ABORT") {
      // Auto-acknowledged subscriptions and no transactions: nothing to do.
    } else {
      return error_and_close(f.command + " is a server frame", &f);
    }
    if (!closing_) receipt(f);
  }

  void connect(const StompFrame& f) {
    auto version = negotiate_stomp_version(f.header("accept-version"));
    if (!version) return error_and_close("supported STOMP versions: 1.1, 1.2", &f);
    if (!authenticated_) {
      const std::string* passcode = f.header("passcode");
      const std::string* authorization = f.header("Authorization");
      constexpr std::string_view kBearer = "Bearer ";
      const bool by_passcode = passcode && context_.auth->allows_token(*passcode);
      const bool by_header = authorization && authorization->rfind(kBearer, 0) == 0 &&
                             context_.auth->allows_token(authorization->substr(kBearer.size()));
      if (!by_passcode && !by_header) return error_and_close("missing or wrong token", &f);
      authenticated_ = true;
    }
    HeartBeat client;
    if (const std::string* hb = f.header("heart-beat")) {
      auto parsed = parse_heart_beat(*hb);
      if (!parsed) return error_and_close(parsed.error().message, &f);
      client = *parsed;
    }
    plan_ = negotiate_heart_beat(client, kServerHeartBeat);
    connected_ = true;
    StompFrame connected{"CONNECTED",
                         {{"version", *version},
                          {"heart-beat", format_heart_beat(kServerHeartBeat)},
                          {"server", "fogm2m-gateway"},
                          {"session", std::to_string(reinterpret_cast<uintptr_t>(this))}},
                         ""};
    write(format_stomp_frame(connected));
    if (plan_.send_ms) beat();
    if (plan_.expect_ms) watch_idle();
  }

  void subscribe(const StompFrame& f) {
    const std::string* id = f.header("id");
    const std::string* destination = f.header("destination");
    if (!id || !destination) return error_and_close("SUBSCRIBE needs id and destination", &f);
    if (*destination == kResponses || *destination == kUserResponses) {
      responses_subscription_ = *id;
      responses_destination_ = *destination;
      return;
    }
    const bool registrations = *destination == kRegistrationTopic;
    const bool notifications = destination->rfind(kNotificationTopic, 0) == 0 &&
                               (destination->size() == kNotificationTopic.size() ||
                                (*destination)[kNotificationTopic.size()] == '/');
    if (!registrations && !notifications)
      return error_and_close("unknown destination " + *destination, &f);
    auto hub = context_.hub.lock();
    if (!hub) return;
    std::string endpoint;
    if (notifications && destination->size() > kNotificationTopic.size())
      endpoint = destination->substr(kNotificationTopic.size() + 1);
    std::weak_ptr<StompSession> weak = weak_from_this();
    const uint64_t listener = hub->subscribe(
        [weak, registrations, id = *id, destination = *destination](const GatewayEvent& e) {
          auto self = weak.lock();
          // Data (notifications, Send) on the notification topic, the rest
          // (registration and presence events) on the registration topic.
          const bool data = e.name == "NOTIFICATION" || e.name == "SEND";
          if (!self || data == registrations) return;
          self->message(destination, id, e.data, &e.name);
        },
        endpoint);
    if (auto old = topics_.find(*id); old != topics_.end()) hub->unsubscribe(old->second);
    topics_[*id] = listener;
  }

  void unsubscribe(const StompFrame& f) {
    const std::string* id = f.header("id");
    if (!id) return error_and_close("UNSUBSCRIBE needs id", &f);
    if (*id == responses_subscription_) responses_subscription_.clear();
    if (auto it = topics_.find(*id); it != topics_.end()) {
      if (auto hub = context_.hub.lock()) hub->unsubscribe(it->second);
      topics_.erase(it);
    }
  }

  void send(const StompFrame& f) {
    const std::string* destination = f.header("destination");
    if (!destination) return error_and_close("SEND needs a destination", &f);
    if (*destination != kRequestDestination)
      return error_and_close("unknown destination " + *destination + " (send to " +
                                 std::string(kRequestDestination) + ")",
                             &f);
    // The client's ticket names the request to it; one is made when absent.
    boost::system::error_code ec;
    json::value body = json::parse(f.body, ec);
    std::string client_ticket = "stomp-" + std::to_string(++made_tickets_);
    if (!ec && body.is_object()) {
      if (const json::value* t = body.get_object().if_contains("ticket"); t && t->is_string())
        client_ticket = std::string(t->get_string());
      else
        body.get_object()["ticket"] = client_ticket;
    }
    auto parsed = bus::parse_request(ec ? std::string_view(f.body) : json::serialize(body));
    if (!parsed.request)
      return deliver(client_reply(client_ticket, "err",
                                  json::object{{"errorMessage", parsed.request.error().message}}));
    bus::Request request = std::move(*parsed.request);
    if (request.kind == bus::RequestKind::kCancelObserve ||
        request.kind == bus::RequestKind::kCancelObserveComposite) {
      if (auto it = observes_.find(request.observe_ticket); it != observes_.end())
        request.observe_ticket = it->second.gw_ticket;
    }
    auto bus = context_.bus.lock();
    if (!bus) return;
    const bool observe = request.kind == bus::RequestKind::kObserve ||
                         request.kind == bus::RequestKind::kObserveComposite;
    Observed target{"", request.endpoint, request.path};
    const bool cancel = request.kind == bus::RequestKind::kCancelObserve ||
                        request.kind == bus::RequestKind::kCancelObserveComposite;
    const std::string cancelled = request.observe_ticket;
    std::weak_ptr<StompSession> weak = weak_from_this();
    auto gw_ticket = std::make_shared<std::string>();
    *gw_ticket = bus->send(
        std::move(request), context_.request_timeout,
        [weak, client_ticket, observe, cancel, cancelled, gw_ticket, target](Result<BusReply> reply,
                                                                             bool final) mutable {
          auto self = weak.lock();
          if (!self) return;
          if (!reply)
            return self->deliver(client_reply(
                client_ticket, "err", json::object{{"errorMessage", reply.error().message}}));
          if (!final) return self->deliver(client_reply(client_ticket, "ack", true));
          const bool rep = reply->type == bus::ReplyType::kRep;
          if (rep && observe) {
            target.gw_ticket = *gw_ticket;
            self->keep_observation(client_ticket, std::move(target), reply->body);
          }
          if (rep && cancel) self->forget_observation(cancelled);
          self->deliver(client_reply(client_ticket, rep ? "rep" : "err", reply->body));
        });
  }

  // An observe the device accepted: its notifications come to this session.
  void keep_observation(const std::string& client_ticket, Observed observed,
                        const json::object& rep) {
    const json::value* code = rep.if_contains("code");
    if (!code || !code->is_string() || code->get_string() != "CONTENT") return;
    auto bus = context_.bus.lock();
    if (!bus) return;
    const std::string gw_ticket = observed.gw_ticket;
    observes_[client_ticket] = std::move(observed);
    std::weak_ptr<StompSession> weak = weak_from_this();
    bus->watch(gw_ticket, [weak, client_ticket](const BusReply& n) {
      if (auto self = weak.lock()) self->deliver(client_reply(client_ticket, "rep", n.body));
    });
  }

  void forget_observation(const std::string& gw_ticket) {
    for (auto it = observes_.begin(); it != observes_.end(); ++it)
      if (it->second.gw_ticket == gw_ticket) {
        if (auto bus = context_.bus.lock()) bus->unwatch(gw_ticket);
        observes_.erase(it);
        return;
      }
  }

  // A reply or notification for this session's /queue/responses
  // subscription; dropped when there is none.
  void deliver(std::string body) {
    if (responses_subscription_.empty()) return;
    message(responses_destination_, responses_subscription_, std::move(body), nullptr);
  }

  void message(const std::string& destination, const std::string& subscription, std::string body,
               const std::string* event) {
    StompFrame m{"MESSAGE",
                 {{"destination", destination},
                  {"subscription", subscription},
                  {"message-id", std::to_string(++message_ids_)},
                  {"content-type", "application/json"}},
                 std::move(body)};
    if (event) m.headers.emplace_back("event", *event);
    write(format_stomp_frame(m));
  }

  void receipt(const StompFrame& f) {
    if (const std::string* r = f.header("receipt"))
      write(format_stomp_frame(StompFrame{"RECEIPT", {{"receipt-id", *r}}, ""}));
  }

  void error_and_close(const std::string& why, const StompFrame* about) {
    StompFrame error{"ERROR", {{"message", why}}, why};
    if (about)
      if (const std::string* r = about->header("receipt"))
        error.headers.emplace_back("receipt-id", *r);
    write(format_stomp_frame(error));
    closing_ = true;
    flush();
  }

  void write(std::string text) {
    if (closed_) return;
    queued_bytes_ += text.size();
    if (queued_bytes_ > kMaxQueuedBytes) {
      spdlog::warn("gateway: STOMP client reads too slowly ({} bytes queued): closing",
                   queued_bytes_);
      return release();
    }
    out_.push_back(std::move(text));
    flush();
  }

  void flush() {
    if (writing_ || closed_) return;
    if (out_.empty()) {
      if (closing_) close();
      return;
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(boost::asio::buffer(out_.front()),
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      self->writing_ = false;
                      if (ec) return self->release();
                      self->queued_bytes_ -= self->out_.front().size();
                      self->out_.pop_front();
                      self->flush();
                    });
  }

  void beat() {
    send_timer_.expires_after(std::chrono::milliseconds(plan_.send_ms));
    send_timer_.async_wait([weak = weak_from_this()](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_) return;
      if (self->out_.empty()) self->write(std::string(kStompHeartBeat));
      self->beat();
    });
  }

  void watch_idle() {
    idle_timer_.expires_after(std::chrono::milliseconds(plan_.expect_ms));
    idle_timer_.async_wait([weak = weak_from_this()](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_) return;
      if (Clock::now() - self->last_in_ > 2 * std::chrono::milliseconds(self->plan_.expect_ms))
        return self->release();  // the client went silent
      self->watch_idle();
    });
  }

  void close() {
    closed_ = true;
    ws_.async_close(websocket::close_code::normal,
                    [self = shared_from_this()](beast::error_code) { self->release(); });
  }

  // Ends the session's ties: listeners, watched observations (cancelled at
  // the device: nobody will read them), timers, the socket.
  void release() {
    if (released_) return;
    released_ = closed_ = true;
    if (auto hub = context_.hub.lock())
      for (const auto& [id, listener] : topics_) hub->unsubscribe(listener);
    topics_.clear();
    if (auto bus = context_.bus.lock()) {
      for (const auto& [client, observed] : observes_) {
        bus->unwatch(observed.gw_ticket);
        bus::Request cancel;
        cancel.kind = bus::RequestKind::kCancelObserve;
        cancel.endpoint = observed.endpoint;
        cancel.path = observed.path;
        cancel.observe_ticket = observed.gw_ticket;
        bus->send(std::move(cancel), context_.request_timeout, {});
      }
    }
    observes_.clear();
    send_timer_.cancel();
    idle_timer_.cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both,
                                                   ignored);
    beast::get_lowest_layer(ws_).close();
  }

  websocket::stream<beast::tcp_stream> ws_;
  StompContext context_;
  bool authenticated_ = false;
  bool connected_ = false;
  bool closing_ = false;  // no more frames are read; close once the queue is written
  bool closed_ = false;
  bool released_ = false;
  bool writing_ = false;
  HeartBeatPlan plan_;
  boost::asio::steady_timer send_timer_, idle_timer_;
  Clock::time_point last_in_;
  beast::flat_buffer buffer_;
  std::deque<std::string> out_;
  size_t queued_bytes_ = 0;
  std::string responses_subscription_, responses_destination_;
  std::map<std::string, uint64_t> topics_;    // subscription id -> hub listener
  std::map<std::string, Observed> observes_;  // by the client's ticket
  uint64_t made_tickets_ = 0, message_ids_ = 0;
  ConnectionToken connection_;  // counts this connection as open
};

}  // namespace

void open_stomp_session(beast::tcp_stream stream, HttpRequest upgrade, bool authenticated,
                        const StompContext& context, ConnectionToken connection) {
  std::make_shared<StompSession>(std::move(stream), authenticated, context, std::move(connection))
      ->run(std::move(upgrade));
}

}  // namespace fogm2m::gateway
