// A UDP relay standing in for the cluster's load balancer in in-process
// tests: clients send to its port on 127.0.0.1; each client (source
// address) gets an upstream socket of its own, so a backend sees one stable
// address per client, and the backend's datagrams go back to the client.
//
// move_to() sends every later datagram, of old clients and new, to another
// backend, as the balancer does when its health check drops a node whose
// flows then land elsewhere; datagrams of the old backend are dropped from
// then on, as a dead node says nothing. refuse() closes the relay's port
// until reopen(): a client's datagrams meanwhile draw an ICMP port
// unreachable, as a dead node's address behind the balancer does until the
// health check removes it. Runs on the caller's io_context;
// single-threaded.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <map>
#include <memory>

namespace fogm2m::test {

class UdpRelay {
 public:
  using udp = boost::asio::ip::udp;

  UdpRelay(boost::asio::io_context& io, udp::endpoint backend)
      : io_(io),
        front_(io, udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)),
        backend_(backend) {
    read_front();
  }

  uint16_t port() const { return front_.local_endpoint().port(); }
  void move_to(udp::endpoint backend) { backend_ = backend; }
  void refuse() {
    port_ = port();
    front_.close();
  }
  // The port again, sending from now on to `backend`.
  void reopen(udp::endpoint backend) {
    backend_ = backend;
    front_.open(udp::v4());
    front_.bind(udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_));
    read_front();
  }
  size_t clients() const { return clients_.size(); }

 private:
  struct Client {
    explicit Client(boost::asio::io_context& io) : upstream(io, udp::v4()) {}
    udp::socket upstream;
    udp::endpoint from;
    std::array<char, 4096> buffer;
  };

  void read_front() {
    front_.async_receive_from(boost::asio::buffer(buffer_), sender_,
                              [this](boost::system::error_code ec, size_t n) {
                                if (ec == boost::asio::error::operation_aborted) return;
                                if (!ec) forward_up(n);
                                read_front();
                              });
  }

  void forward_up(size_t n) {
    auto it = clients_.find(sender_);
    if (it == clients_.end()) {
      auto client = std::make_unique<Client>(io_);
      client->upstream.bind(udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
      Client* raw = client.get();
      it = clients_.emplace(sender_, std::move(client)).first;
      read_back(raw, sender_);
    }
    boost::system::error_code ignored;
    it->second->upstream.send_to(boost::asio::buffer(buffer_.data(), n), backend_, 0, ignored);
  }

  void read_back(Client* client, udp::endpoint device) {
    client->upstream.async_receive_from(
        boost::asio::buffer(client->buffer), client->from,
        [this, client, device](boost::system::error_code ec, size_t n) {
          if (ec == boost::asio::error::operation_aborted) return;
          if (!ec && client->from == backend_) {  // an old backend is dead to its clients
            boost::system::error_code ignored;
            front_.send_to(boost::asio::buffer(client->buffer.data(), n), device, 0, ignored);
          }
          read_back(client, device);
        });
  }

  boost::asio::io_context& io_;
  udp::socket front_;
  udp::endpoint backend_;
  uint16_t port_ = 0;  // while refused
  udp::endpoint sender_;
  std::array<char, 4096> buffer_;
  std::map<udp::endpoint, std::unique_ptr<Client>> clients_;
};

}  // namespace fogm2m::test
