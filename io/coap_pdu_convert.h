// Conversion between libcoap's coap_pdu_t and our value type
// lwm2m::CoapMessage, for the code that keeps libcoap: the node's DTLS
// transport and the emulated DTLS device.
//
// libcoap 4.3.1 cannot serialise a PDU without a session, and coap_pdu_t is
// opaque, so the conversion goes through libcoap's accessors: type, code,
// message id, token, options (in wire order) and payload in; code, options
// and payload out (type, message id and token are the transport's business,
// or coap_pdu_init's).
#pragma once

#include <coap3/coap.h>

#include <chrono>
#include <cstddef>

#include "lwm2m/coap_message.h"
#include "lwm2m/result.h"

namespace fogm2m::io {

// Copies everything of `pdu` into a CoapMessage: type, code, message id,
// token, every option (repeated ones in wire order, values as raw bytes) and
// the payload of this PDU (no block reassembly).
lwm2m::CoapMessage coap_message_from_pdu(const coap_pdu_t* pdu);

// Adds the options and the payload of `message` to `pdu` and sets its code.
// The PDU's type, message id and token are left as they are: the token must
// already be in place (libcoap adds options after the token). Fails
// (kInvalidArgument) when an option or the payload does not fit the PDU's
// maximum size; the PDU is then partly filled and should be discarded or
// have its code replaced.
Status fill_pdu(const lwm2m::CoapMessage& message, coap_pdu_t* pdu);

// A new PDU of `message`'s type, code, message id and token, with its
// options and payload, at most `max_size` bytes (0: libcoap's default).
// Returns nullptr when it does not fit or libcoap cannot allocate; the
// caller owns the PDU (coap_send takes it, else coap_delete_pdu).
coap_pdu_t* make_pdu(const lwm2m::CoapMessage& message, size_t max_size);

// A duration (or a plain factor, as seconds) in libcoap's fixed point: whole
// units and thousandths, clamped to 0.001 .. 65535.
coap_fixed_point_t to_coap_fixed_point(std::chrono::duration<double> value);

}  // namespace fogm2m::io
