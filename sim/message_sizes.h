// Sizes of the messages the simulated system exchanges, built once with the
// real encoders: CoAP messages through lwm2m::encode_coap sizes (the
// Register is the emulated device's own), payloads through the TLV / LwM2M
// JSON codecs (the IPSO 3313 accelerometer as a started emulated device
// holds it), bus messages written by bus/ and framed as Redis RESP. Per-datagram
// overheads are added by the model: UDP/IP 28 bytes, DTLS 1.2 record with
// AES-CCM8 29 bytes (13 header + 8 explicit nonce + 8 tag), the link header,
// and TCP/IP headers for Redis traffic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fogm2m::sim {

constexpr uint32_t kUdpIpOverhead = 28;
constexpr uint32_t kDtlsRecordOverhead = 13 + 8 + 8;

// Payload sizes in bytes (no transport headers).
struct MessageSizes {
  // CoAP (UDP payload)
  uint32_t notification = 0;       // NON 2.05 + Observe + Content-Format, the observed node
  uint32_t empty_ack = 0;          // ACK of a CON notification (4-byte header)
  uint32_t read_request = 0;       // CON GET /3313/0/5702 + Accept
  uint32_t read_response = 0;      // ACK 2.05 with one float resource
  uint32_t write_request = 0;      // CON PUT /3/0/14 (a string) in the format
  uint32_t execute_request = 0;    // CON POST /3/0/4
  uint32_t changed_response = 0;   // ACK 2.04, no payload (a write's or an execute's)
  uint32_t observe_request = 0;    // CON GET Observe:0 on the observed path
  uint32_t observe_response = 0;   // ACK 2.05 Observe with the observed node
  uint32_t register_request = 0;   // CON POST /rd?ep=..&lt=..&lwm2m=1.1&b=U + links
  uint32_t register_response = 0;  // ACK 2.01 Location-Path rd/<id>
  uint32_t update_request = 0;     // CON POST /rd/<id>
  uint32_t update_response = 0;    // ACK 2.04
  // Redis RESP (TCP payload)
  uint32_t bus_request_publish = 0;          // PUBLISH LWM2M_REQ {"ep","ticket","req":{...}}
  uint32_t bus_request_message = 0;          // the same delivered to a subscriber ("message" push)
  uint32_t bus_write_request_publish = 0;    // the same for a write (it carries the node)
  uint32_t bus_execute_request_publish = 0;  // and an execute
  uint32_t bus_changed_rep_publish = 0;      // PUBLISH LWM2M_RESP {"ticket","rep":{CHANGED}}
  uint32_t bus_ack_publish = 0;              // PUBLISH LWM2M_RESP {"ticket","ack":true}
  uint32_t bus_rep_publish = 0;              // PUBLISH LWM2M_RESP {"ticket","rep":{read content}}
  uint32_t bus_rep_message = 0;
  uint32_t bus_notification_publish = 0;  // PUBLISH LWM2M_RESP notification rep
  uint32_t bus_notification_message = 0;
  uint32_t bus_registration_publish = 0;  // PUBLISH LESHAN_REG_NEW with the registration JSON
  uint32_t store_command = 0;             // one store write (SET key json) of a registration
  uint32_t redis_reply = 0;               // a short reply (":1\r\n", "+OK\r\n")
};

// A PUBLISH of `payload_bytes` on `channel` in RESP (also the size of the
// "message" push that delivers it to a subscriber).
uint32_t resp_publish_size(std::string_view channel, size_t payload_bytes);

// The sizes for notifications of `observe_path` ("/3313/0" or a resource)
// in `content_format` ("TLV" or "JSON"; others count as TLV). Computed with
// the codecs on each call; the model calls it once per point.
MessageSizes compute_message_sizes(const std::string& observe_path,
                                   const std::string& content_format);

}  // namespace fogm2m::sim
