// One emulated device speaking CoAP over DTLS 1.2 with a pre-shared key
// (LwM2M security mode PSK, server port 5684) to one LwM2M server, through
// libcoap 4.3.1 and its OpenSSL backend. The same shape as UdpDevice
// (udp_device.h), so a fleet can run either; the LwM2M logic is Device's
// (device.h), the PSK identity and key are the Device's own (/0/0/3 and
// /0/0/5, from its DeviceIdentity).
//
// DtlsClientContext is one libcoap client context, driven by an io_context
// through io::CoapAsioDriver; every DtlsDevice of that io_context's thread
// shares it (libcoap contexts are not thread-safe: one per thread).
//
//   session    One libcoap client session per device, created by start()
//              (coap_new_client_session_psk2), bound to the bind address with
//              an ephemeral port, so each device has its own source port
//              (picked by a probe socket: see open_session()). The
//              handshake starts at once; messages sent before it completes
//              wait in libcoap. A session that fails (wrong key, alert,
//              server gone) is released and a new one is made for the next
//              message, so Device's Register retry doubles as reconnection.
//   outgoing   Device requests (Register, Update, De-register) go out as CON
//              with the Device's token; the response (piggy-backed or
//              separate) is matched by libcoap and handed to
//              Device::handle_response. Notifications go out on the session
//              with the observation's token, CON or NON as Device chose.
//              Retransmission is libcoap's, once: libcoap 4.3.1 ignores a
//              MAX_RETRANSMIT of 0 (it keeps its default of 4), so the
//              session's is 1: libcoap sends a CON, retransmits it once
//              after the ACK timeout (counted here), and reports the second
//              timeout. It also sends one CON at a time (NSTART 1), holding
//              the others until the outstanding one is settled, and it
//              takes no ACK timeout under a second. Before the handshake
//              completes, a reported timeout is followed by the device's
//              own retransmissions (ConRetransmission,
//              lwm2m/coap_reliability.h) while
//              options.transmission.max_retransmit allows. Giving up, an
//              RST, or a DTLS failure calls Device::on_timeout /
//              Device::on_reset.
//   silence    On an established session, a reported timeout (a CON
//              unacknowledged through a transmission and a retransmission:
//              three ACK timeouts, 6-9 s with the defaults) of a
//              notification, or of a second request in a row without a
//              response between (one may be a server busy with a burst of
//              handshakes), abandons the session. A server that dies
//              says nothing (no alert, no RST), and neither does the node
//              the balancer then sends the device's records to: it drops
//              records of a session it does not know. The session is
//              released (its requests fail, its observations end), a new
//              handshake starts with the next message, and an Update goes
//              out on it, so the server, or the node that took the device
//              over, learns where the device is and asks again for its
//              observations (issue: DTLS failover). A session that
//              libcoap closes itself (an ICMP port unreachable from a dead
//              node's address, a DTLS alert) is followed by the same
//              Update. A CON notification
//              replaced by a newer one (RFC 7641 4.5.2) is forgotten here,
//              but its timeout still counts: libcoap reports it with the
//              message.
//   incoming   Requests from the server over the session (Read, Write,
//              Observe, ...) reach the context's unknown-resource handler,
//              registered for every method, and are answered through
//              Device::handle_request (piggy-backed for CON). A duplicate
//              (same message ID as one of the last few) gets the same
//              answer again without reaching Device.
//   time       One steady_timer per device for Device::next_deadline().
//              Asio keeps timers in a heap per io_context (O(log n) per
//              operation, about a hundred bytes per timer), which is small
//              beside a libcoap DTLS session; libcoap's own timers
//              (handshake, ACK timeouts) run inside CoapAsioDriver.
//              A handshake that does not finish within
//              options.handshake_timeout counts as failed too.
//   stop       De-register and wait for its answer or failure, then release
//              the session (OpenSSL sends close_notify). During a handshake
//              or before registration, stop() releases at once.
//
// Known limits (libcoap 4.3.1): an RST answering a NON notification is not
// reported by libcoap, so such an observation ends only with the next CON
// notification (every DeviceConfig::notify_con_every). The datagram counters
// count CoAP messages (one datagram each), not DTLS handshake records.
//
// Threading: everything runs on the io_context's thread; call start(), stop()
// and device() from it (or before run()), never from inside a libcoap
// callback of another component. A DtlsDevice may be destroyed at any time on
// that thread; every DtlsDevice must be destroyed before its context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "emulated_clients/device.h"
#include "emulated_clients/device_timer.h"
#include "io/coap_asio.h"
#include "io/lifetime.h"
#include "lwm2m/coap_message.h"
#include "lwm2m/coap_reliability.h"
#include "lwm2m/result.h"

struct coap_context_t;
struct coap_session_t;

namespace fogm2m::emulated {

class DtlsDevice;

struct DtlsDeviceOptions {
  // Local address; default: the unspecified address of the server's family.
  // The port is always an ephemeral one.
  std::optional<boost::asio::ip::address> bind_address;
  uint64_t seed = 0;  // 0: derived from the device's seed (retransmission jitter)
  bool register_on_start = true;
  // Posted to the io_context whenever the device's registration state changes.
  std::function<void(RegistrationState)> on_registration_state;
  // RFC 7252 4.8 transmission parameters (defaults), shorter in tests.
  lwm2m::CoapTransmission transmission;
  // A handshake not complete after this long counts as failed: with a wrong
  // key the peers' encrypted Finished messages are dropped as undecryptable
  // (RFC 6347 4.1.2.7), so neither side sends an alert and OpenSSL would
  // retransmit for minutes. The session is released and the messages it
  // held fail, so Device retries Register after its back-off.
  std::chrono::milliseconds handshake_timeout{10000};
};

struct DtlsDeviceStats {
  uint64_t datagrams_in = 0;   // CoAP messages received over DTLS
  uint64_t datagrams_out = 0;  // CoAP messages sent over DTLS (retransmissions included)
  uint64_t retransmissions = 0;
  uint64_t duplicates = 0;          // requests answered again without reaching Device
  uint64_t timeouts = 0;            // CONs given up (no ACK, or the DTLS session failed)
  uint64_t resets_in = 0;           // RSTs to CON messages
  uint64_t handshakes = 0;          // DTLS sessions established
  uint64_t handshake_failures = 0;  // sessions that failed before being established
  uint64_t session_failures = 0;    // established sessions that failed or were closed by the peer
  uint64_t sessions_abandoned = 0;  // established sessions given up on: the server went silent
  uint64_t rebinds = 0;             // address changes (rebind())
};

// One libcoap client context for the DtlsDevices of one io_context (thread).
class DtlsClientContext {
 public:
  // kUnsupported when libcoap lacks DTLS or epoll; kIo when the context
  // cannot be created or driven.
  static Result<std::unique_ptr<DtlsClientContext>> create(boost::asio::io_context& io);
  ~DtlsClientContext();
  DtlsClientContext(const DtlsClientContext&) = delete;
  DtlsClientContext& operator=(const DtlsClientContext&) = delete;

  boost::asio::io_context& io() { return io_; }
  // Devices created on this context and not yet destroyed.
  size_t device_count() const { return devices_; }

 private:
  friend class DtlsDevice;
  explicit DtlsClientContext(boost::asio::io_context& io);
  // Runs a processing round soon (after queuing messages from outside libcoap).
  void kick();

  boost::asio::io_context& io_;
  io::CoapLibrary library_;  // before ctx_: coap_startup first, coap_cleanup last
  coap_context_t* ctx_ = nullptr;
  std::unique_ptr<io::CoapAsioDriver> driver_;
  size_t devices_ = 0;
};

class DtlsDevice {
 public:
  // `server`: the LwM2M server's DTLS endpoint (usually port 5684). The
  // device's identity must carry a PSK identity and key.
  DtlsDevice(DtlsClientContext& context, boost::asio::ip::udp::endpoint server, Device device,
             DtlsDeviceOptions options = {});
  ~DtlsDevice();
  DtlsDevice(const DtlsDevice&) = delete;
  DtlsDevice& operator=(const DtlsDevice&) = delete;

  // Creates the DTLS session (the handshake starts) and starts the device
  // (registering when options.register_on_start). kInvalidArgument when
  // already running or the device has no PSK; kIo when libcoap cannot
  // create the session (e.g. the bind address is not local).
  Status start();

  // De-registers when registered (waiting for the response or the request's
  // failure), then releases the DTLS session; `on_stopped` is posted to the
  // io_context afterwards (also when not running; every callback of repeated
  // calls runs). start() may be called again afterwards.
  void stop(std::function<void()> on_stopped = {});

  // NAT rebinding: the device's address changes under its session, which
  // the server knows by its address and so loses. The device gives the
  // session up at once (a device that is not told notices by silence; see
  // "silence"), makes a new one from a new port and sends an Update on it.
  // kInvalidArgument when not running.
  Status rebind();

  bool running() const { return running_; }
  bool stopping() const { return stopping_; }
  // True while the session's DTLS handshake has completed and not failed.
  bool connected() const { return connected_; }
  // The session's local address and port (unspecified when there is none).
  boost::asio::ip::udp::endpoint local_endpoint() const;
  const boost::asio::ip::udp::endpoint& server() const { return server_; }

  Device& device() { return device_; }
  const Device& device() const { return device_; }
  const DtlsDeviceStats& stats() const { return stats_; }

 private:
  friend class DtlsClientContext;
  struct Callbacks;  // libcoap's handlers (dtls_device.cc)

  // A CON the device sent and libcoap has not yet settled.
  struct Pending {
    uint16_t message_id = 0;
    bool notification = false;
    bool failed = false;  // could not be sent again: settled by service()
    lwm2m::ConRetransmission retransmission;
    std::string token;
    std::optional<lwm2m::CoapMessage> resend;  // due for retransmission
  };

  Status open_session();
  void release_session();
  void send_all(std::vector<lwm2m::CoapMessage>& messages, TimePoint now);
  bool send(lwm2m::CoapMessage& message, const lwm2m::ConRetransmission& retransmission,
            bool again);
  void service(TimePoint now);
  void post_service();
  void arm_timer();
  void finish_stop();
  void report_state();

  // From libcoap's callbacks.
  void on_request(const lwm2m::CoapMessage& request, lwm2m::CoapMessage& response);
  bool on_response(const lwm2m::CoapMessage& response);
  void on_nack(const lwm2m::CoapMessage& sent, int reason);
  void on_event(int event);
  // The server went silent on an established session (see "silence").
  void abandon_session();
  // The session is released at the next service() and an Update goes out
  // on a new one.
  void give_up_session();

  DtlsClientContext& context_;
  boost::asio::ip::udp::endpoint server_;
  Device device_;
  DtlsDeviceOptions options_;
  DeviceTimer timer_;
  RegistrationWatch watch_;

  coap_session_t* session_ = nullptr;
  bool connected_ = false;
  bool session_failed_ = false;                      // released at the next service()
  bool update_after_release_ = false;                // lost: an Update on the next session
  uint32_t request_timeouts_ = 0;                    // in a row, on this session
  TimePoint handshake_deadline_ = TimePoint::max();  // while a handshake is under way
  bool service_posted_ = false;
  bool running_ = false;
  bool stopping_ = false;
  std::function<void()> on_stopped_;

  uint64_t rng_;
  std::vector<Pending> pending_;
  lwm2m::RecentMessageIds<lwm2m::CoapMessage> answered_;  // requests answered, for duplicates
  std::vector<lwm2m::CoapMessage> outgoing_;              // reused by service()
  DtlsDeviceStats stats_;
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::emulated
