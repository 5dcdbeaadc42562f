// STOMP 1.2 over WebSocket at /ws: the reference study's path from a
// browser to the bus (a Spring STOMP broker there), for clients such as
// @stomp/stompjs. Subprotocols v12.stomp, v11.stomp, v10.stomp are
// accepted (the first the client offers that we speak).
//
// Destinations:
//   SEND      /app/request         body: a bus request (bus/request.h)
//                                  {"ep","ticket","req":{...}}; the ticket
//                                  is the client's own (one is made when absent)
//   SUBSCRIBE /queue/responses     (or /user/queue/responses) this session's
//                                  replies: {"ticket","ack":true}, then
//                                  {"ticket","rep":{..}} or {"ticket","err":{..}},
//                                  and later the notifications of its observes
//             /topic/registration  REGISTRATION, UPDATED, DEREGISTRATION events
//             /topic/notification[/{ep}]   NOTIFICATION events (all, or one device's)
// Event MESSAGEs carry the event's name in an "event" header and its JSON
// (event_hub.h) as body. A SEND whose body is not a valid request is
// answered on /queue/responses with an err naming the fault; the session
// goes on. A malformed frame, a frame before CONNECT, a SUBSCRIBE without
// id or destination, an unknown destination or a wrong token gets an ERROR
// frame, then the connection closes. "receipt" headers are honoured;
// heart-beats are negotiated (the server offers 10000,10000) and a client
// silent for twice its promise is closed.
//
// Authentication: the upgrade request's bearer token or cookie, or else
// the CONNECT frame's "passcode" (or "Authorization: Bearer ...") header.
#pragma once

#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <memory>

#include "gateway/auth.h"
#include "gateway/bus_client.h"
#include "gateway/event_hub.h"
#include "gateway/http_server.h"
#include "lwm2m/model.h"

namespace fogm2m::gateway {

struct StompContext {
  std::weak_ptr<BusClient> bus;  // weak: a session may outlive the gateway
  std::weak_ptr<EventHub> hub;
  const Auth* auth = nullptr;  // read only while the gateway runs
  const lwm2m::ModelRegistry* models = nullptr;
  std::chrono::milliseconds request_timeout{5000};
};

// Takes over `stream` (an HTTP connection whose request is a WebSocket
// upgrade to /ws) and runs a STOMP session on it until either side closes.
void open_stomp_session(boost::beast::tcp_stream stream, HttpRequest upgrade, bool authenticated,
                        const StompContext& context, ConnectionToken connection);

}  // namespace fogm2m::gateway
