#include "server/services/local_devices.h"

namespace fogm2m::server {

void LocalDevices::put(LocalDevice device) {
  const std::string ep = device.registration.endpoint;
  erase(ep);
  endpoint_by_reg_id_[device.registration.reg_id] = ep;
  endpoint_by_peer_[device.peer.address.to_string()] = ep;
  devices_.emplace(ep, std::move(device));
}

bool LocalDevices::erase(const std::string& endpoint) {
  auto it = devices_.find(endpoint);
  if (it == devices_.end()) return false;
  endpoint_by_reg_id_.erase(it->second.registration.reg_id);
  if (auto p = endpoint_by_peer_.find(it->second.peer.address.to_string());
      p != endpoint_by_peer_.end() && p->second == endpoint)
    endpoint_by_peer_.erase(p);
  devices_.erase(it);
  return true;
}

const LocalDevice* LocalDevices::by_endpoint(const std::string& endpoint) const {
  auto it = devices_.find(endpoint);
  return it == devices_.end() ? nullptr : &it->second;
}

const LocalDevice* LocalDevices::by_reg_id(const std::string& reg_id) const {
  auto it = endpoint_by_reg_id_.find(reg_id);
  return it == endpoint_by_reg_id_.end() ? nullptr : by_endpoint(it->second);
}

const LocalDevice* LocalDevices::by_peer(const lwm2m::PeerAddress& peer) const {
  auto it = endpoint_by_peer_.find(peer.to_string());
  return it == endpoint_by_peer_.end() ? nullptr : by_endpoint(it->second);
}

}  // namespace fogm2m::server
