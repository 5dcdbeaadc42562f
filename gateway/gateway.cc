#include "gateway/gateway.h"

#include <spdlog/spdlog.h>

#include "gateway/stomp_session.h"

namespace fogm2m::gateway {

Gateway::Gateway(boost::asio::io_context& io, GatewayOptions options, Auth auth,
                 const lwm2m::ModelRegistry& models)
    : io_(io),
      options_(std::move(options)),
      auth_(std::move(auth)),
      models_(models),
      bus_(std::make_shared<BusClient>(io, options_.bus)),
      registrations_(bus_->commands()),
      security_(bus_->commands()),
      directory_(registrations_),
      hub_(std::make_shared<EventHub>()),
      api_(*bus_, directory_, security_, models_, options_.api) {
  bus_->on_registration_event(
      [this](bus::RegistrationEventKind kind, const store::Registration& reg) {
        directory_.apply(kind, reg);
        if (hub_->has_listeners()) hub_->publish(registration_event(kind, reg));
      });
  bus_->on_notification(
      [this](const BusReply& n) {
        if (auto event = notification_event(n, models_)) hub_->publish(*event);
      },
      [this] { return hub_->has_listeners(); });
  bus_->on_device_event([this](std::string_view message) {
    if (!hub_->has_listeners()) return;
    if (auto event = device_event(message, models_)) hub_->publish(*event);
  });
  metrics_.watch(*bus_, *hub_, directory_);
}

Gateway::~Gateway() {
  if (http_) http_->stop();
}

void Gateway::start(std::function<void(Status)> ready) {
  bus_->start(lifetime_.guard([this, ready = std::move(ready)](Status s) mutable {
    if (!s) return ready(s);
    was_up_ = true;
    // Events published while the links were down are lost: read the
    // registrations afresh after every reconnection.
    bus_->on_state(lifetime_.guard([this](bool up) {
      if (up && !was_up_)
        directory_.reload(lifetime_.guard([this](Status loaded) {
          if (loaded)
            spdlog::info("gateway: bus back; {} registrations reloaded", directory_.size());
        }));
      was_up_ = up;
    }));
    directory_.reload(lifetime_.guard([this, ready = std::move(ready)](Status loaded) mutable {
      if (!loaded) return ready(loaded);
      HttpServices services;
      services.auth = &auth_;
      services.api = &api_;
      services.hub = hub_;
      StompContext stomp{bus_, hub_, &auth_, &models_, options_.api.default_timeout};
      services.open_stomp = [stomp](boost::beast::tcp_stream stream, HttpRequest upgrade,
                                    bool authenticated, ConnectionToken connection) {
        open_stomp_session(std::move(stream), std::move(upgrade), authenticated, stomp,
                           std::move(connection));
      };
      services.metrics = [this] { return metrics_text(); };
      services.answered = [this](ApiOperation op, unsigned status, std::chrono::nanoseconds took) {
        metrics_.answered(op, status, took);
      };
      http_ = std::make_unique<HttpServer>(io_, std::move(services), options_.http);
      auto port = http_->listen();
      if (!port) return ready(port.error());
      http_port_ = *port;
      metrics_.watch_http(*http_);
      ready({});
    }));
  }));
}

void Gateway::stop() {
  if (http_) http_->stop();
  bus_->stop();
}

std::string Gateway::metrics_text() const {
  return metrics_.render();
}

}  // namespace fogm2m::gateway
