// Device Management and Information Reporting towards one device: turns a
// bus request into the CoAP request LwM2M prescribes, sends it over the
// device's own session, and turns the answer into the bus reply.
//
//   read              GET    path  Accept: format
//   discover          GET    path  Accept: link-format
//   write (replace)   PUT    path  Content-Format: format, payload
//   write (update)    POST   path  Content-Format: format, payload
//   execute           POST   path  payload: arguments (text)
//   create            POST   object path, payload: new instance
//   delete            DELETE path
//   write_attributes  PUT    path  ?pmin=&pmax=&gt=&lt=&st=
//   observe           GET    path  Observe: 0, Accept: format
//   cancel_observe    GET    path  Observe: 1 with the observation's token
//
// The composite kinds (LwM2M 1.1 TS-Core 6.3.x, 6.4.x) go to the device's
// root, in SenML JSON (the default) or SenML CBOR, Content-Format and
// Accept alike:
//   read_composite    FETCH  /  payload: the paths, records with only "n"
//   write_composite   iPATCH /  payload: the values, one record per leaf
//   observe_composite FETCH  /  Observe: 0, payload: the paths
//   cancel_observe_composite
//                     FETCH  /  Observe: 1 with the observation's token and paths
// An LwM2M 1.0 device, or one that announced a ct list without the format
// (or, none asked for, without either SenML), gets no composite request:
// the answer is an err. A composite observation is one store record (its
// `paths`, store/observation.h), so it is forwarded, taken over and asked
// for again like a single one; its notifications are decoded per path.
//
// Replies (bus/reply.h): a device's answer is a rep (DeviceResponse), an
// error code included ({"code":"NOT_FOUND","coapCode":"4.04",...}).
// Failures of the server side (device timeout, undecodable payload,
// unencodable write) are errs, and so is a request for a content format the
// device did not announce in its root link's ct= list (when it sent one),
// which is never sent.
#pragma once

#include <functional>
#include <random>
#include <span>
#include <unordered_map>
#include <unordered_set>

#include "bus/reply.h"
#include "bus/request.h"
#include "io/lifetime.h"
#include "server/node_context.h"

namespace fogm2m::server {

// The final reply to one request (a rep or an err message, bus/reply.h),
// ready to publish.
using ReplyHandler = std::function<void(std::string reply)>;

class DeviceManager {
 public:
  explicit DeviceManager(NodeContext& ctx);

  // Performs `request` on `device` (the caller checked ownership); `done`
  // runs exactly once, later.
  void perform(const LocalDevice& device, const bus::Request& request, ReplyHandler done);

  // A notification arrived from `peer`; forwards it on the bus with its
  // observation's ticket. An observation this node does not hold is looked
  // up in the store and taken over with its device (a dead node's). Returns
  // false (reset it) when the token is known to belong to no observation.
  bool on_notification(const PeerInfo& peer, const lwm2m::CoapMessage& notification);

  // Asks the device again for the observations the store holds for it that
  // this node does not (it took the device over by an Update).
  void reestablish_observations(const LocalDevice& device);

  // A Register replaced the device's registration, or a DTLS device came
  // back on a new session: the observations it had ended on the device,
  // not for those who asked for them. Those in memory are forgotten and every one the store holds
  // is asked for again, under its ticket (Leshan's failover rule: the server re-initiates
  // observations on every Register).
  void renew_observations(const LocalDevice& device);

  // Forgets every observation of `reg` (the registration ended).
  void drop_observations(const store::Registration& reg);

  // Active observations held by this node.
  size_t observation_count() const { return observations_.size(); }

 private:
  void observe(const LocalDevice& device, const bus::Request& request, ReplyHandler done);
  // kUnsupported when `request` names a content format (read, observe,
  // write, create) that `device` announced a ct list without: "device <ep>
  // does not support content format <NAME> (<n>; it announced ct=<list>)".
  Status check_format(const LocalDevice& device, const bus::Request& request) const;
  // Cancels the observation `request` names: by its observeTicket, else the
  // endpoint's observation of the path (cancel_observe) or of the same set
  // of paths (cancel_observe_composite).
  void cancel_observe(const LocalDevice& device, const bus::Request& request, ReplyHandler done);
  // read_composite, write_composite, observe_composite (and the cancel).
  void composite(const LocalDevice& device, const bus::Request& request, ReplyHandler done);
  void observe_composite(const LocalDevice& device, const bus::Request& request,
                         lwm2m::ContentFormat format, ReplyHandler done);
  // The format a composite request travels in: the request's, else SenML
  // JSON or SenML CBOR, whichever the device announced (JSON first).
  // kUnsupported for an LwM2M 1.0 device or a format it did not announce.
  Result<lwm2m::ContentFormat> composite_format(const LocalDevice& device,
                                                const bus::Request& request) const;
  // The iPATCH of a write_composite.
  Result<lwm2m::CoapMessage> composite_write(const LocalDevice& device, const bus::Request& request,
                                             lwm2m::ContentFormat format) const;
  // A device's answer to a composite request of `kind` for `paths` as the rep.
  Result<bus::CompositeResponse> interpret_composite(bus::RequestKind kind,
                                                     std::span<const lwm2m::Path> paths,
                                                     lwm2m::ContentFormat requested,
                                                     const lwm2m::CoapMessage& response) const;
  // The bus message of a notification of the composite observation `obs`.
  std::string composite_notification(const store::Observation& obs,
                                     const lwm2m::CoapMessage& notification) const;
  // The Observe request (register or deregister) of `obs`, single or composite.
  Result<lwm2m::CoapMessage> observe_message(const store::Registration& reg,
                                             const store::Observation& obs, std::string token,
                                             uint32_t observe) const;
  // Builds the CoAP request of every kind but observe/cancel.
  Result<lwm2m::CoapMessage> build(const LocalDevice& device, const bus::Request& request);
  // Turns a device response to a request of `kind` into the rep.
  Result<bus::DeviceResponse> interpret(bus::RequestKind kind, const lwm2m::Path& path,
                                        lwm2m::ContentFormat requested,
                                        const lwm2m::CoapMessage& response) const;
  // The payload of a 2.05 Content response for `path`, in the format the
  // response names (else `requested`), decoded. Errors: kUnsupported for an
  // unknown format, kMalformed for a payload that does not decode.
  struct Content {
    lwm2m::ContentFormat format;
    lwm2m::Node node;
  };
  Result<Content> decode_content(const lwm2m::Path& path, lwm2m::ContentFormat requested,
                                 const lwm2m::CoapMessage& response) const;
  lwm2m::ContentFormat default_format(const LocalDevice& device, const lwm2m::Path& path) const;
  std::string new_token();
  // A request the device did not answer: counted, and the err reply for it.
  std::string unanswered(bus::RequestKind kind, const std::string& ticket,
                         const std::string& endpoint, const Error& error);
  // After an observe's answer: keeps the observation (in the store too) when
  // the device accepted it, forgets its token otherwise.
  void settle_observation(const store::Observation& obs, const std::string& token,
                          const Result<lwm2m::CoapMessage>& response);
  void forward(std::unordered_map<std::string, store::Observation>::iterator it,
               const lwm2m::CoapMessage& notification);
  bool adopt_observation(const PeerInfo& peer, const lwm2m::CoapMessage& notification);
  void not_adopted(const std::string& token, bool store_failed);
  // False when the device is this node's already.
  bool take_over(const PeerInfo& peer, store::Registration reg);
  std::chrono::milliseconds device_wait(const bus::Request& r) const;
  void follow_address(const LocalDevice& device, const PeerInfo& peer);
  void hold_at(const PeerInfo& peer, store::Registration reg);
  void reobserve(const LocalDevice& device, std::string token, store::Observation obs);

  NodeContext& ctx_;
  std::mt19937_64 rng_;
  // Observations this node holds, by raw CoAP token (at most 8 bytes, so
  // the per-notification lookup allocates nothing); mirrored in the store.
  std::unordered_map<std::string, store::Observation> observations_;
  std::unordered_set<std::string> adopting_;        // tokens being looked up
  std::unordered_set<std::string> unknown_tokens_;  // tokens the store does not know
  io::Lifetime lifetime_;                           // last: ends first
};

}  // namespace fogm2m::server
