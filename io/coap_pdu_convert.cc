#include "io/coap_pdu_convert.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace fogm2m::io {

lwm2m::CoapMessage coap_message_from_pdu(const coap_pdu_t* pdu) {
  lwm2m::CoapMessage message;
  message.type = static_cast<lwm2m::CoapType>(coap_pdu_get_type(pdu) & 0x3);
  message.code = static_cast<uint8_t>(coap_pdu_get_code(pdu));
  message.message_id = static_cast<uint16_t>(coap_pdu_get_mid(pdu));
  const coap_bin_const_t token = coap_pdu_get_token(pdu);
  if (token.length > 0) message.token.assign(reinterpret_cast<const char*>(token.s), token.length);

  // libcoap keeps options in wire order (ascending number, repeats in the
  // order they came), which is the order CoapMessage keeps.
  coap_opt_iterator_t it;
  coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
  while (coap_opt_t* option = coap_option_next(&it)) {
    const uint32_t length = coap_opt_length(option);
    const uint8_t* value = coap_opt_value(option);
    message.options.push_back(lwm2m::CoapOption{
        static_cast<uint16_t>(it.number),
        length > 0 ? std::string(reinterpret_cast<const char*>(value), length) : std::string()});
  }

  size_t length = 0;
  const uint8_t* data = nullptr;
  if (coap_get_data(pdu, &length, &data) != 0 && length > 0)
    message.payload.assign(reinterpret_cast<const char*>(data), length);
  return message;
}

Status fill_pdu(const lwm2m::CoapMessage& message, coap_pdu_t* pdu) {
  coap_pdu_set_code(pdu, static_cast<coap_pdu_code_t>(message.code));
  for (const lwm2m::CoapOption& option : message.options) {
    // coap_add_option returns the option's encoded length, at least 1 even for
    // an empty value, so 0 always means it did not fit.
    if (coap_add_option(pdu, option.number, option.value.size(),
                        reinterpret_cast<const uint8_t*>(option.value.data())) == 0) {
      return make_error(ErrorKind::kInvalidArgument,
                        "CoAP PDU: option " + std::to_string(option.number) + " of " +
                            std::to_string(option.value.size()) + " bytes does not fit");
    }
  }
  if (!message.payload.empty() &&
      coap_add_data(pdu, message.payload.size(),
                    reinterpret_cast<const uint8_t*>(message.payload.data())) == 0) {
    return make_error(
        ErrorKind::kInvalidArgument,
        "CoAP PDU: payload of " + std::to_string(message.payload.size()) + " bytes does not fit");
  }
  return {};
}

coap_pdu_t* make_pdu(const lwm2m::CoapMessage& message, size_t max_size) {
  if (message.token.size() > 8) return nullptr;
  coap_pdu_t* pdu = coap_pdu_init(static_cast<coap_pdu_type_t>(message.type),
                                  static_cast<coap_pdu_code_t>(message.code),
                                  static_cast<coap_mid_t>(message.message_id), max_size);
  if (pdu == nullptr) return nullptr;
  if ((!message.token.empty() &&
       coap_add_token(pdu, message.token.size(),
                      reinterpret_cast<const uint8_t*>(message.token.data())) == 0) ||
      !fill_pdu(message, pdu).ok()) {
    coap_delete_pdu(pdu);
    return nullptr;
  }
  return pdu;
}

coap_fixed_point_t to_coap_fixed_point(std::chrono::duration<double> value) {
  const double units = std::clamp(value.count(), 0.001, 65535.0);
  const auto integer = static_cast<uint16_t>(units);
  const auto thousandths =
      static_cast<uint16_t>(std::min(999.0, std::round((units - integer) * 1000.0)));
  return coap_fixed_point_t{integer, thousandths};
}

}  // namespace fogm2m::io
