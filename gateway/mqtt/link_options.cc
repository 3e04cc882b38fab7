#include "gateway/mqtt/link_options.h"

#include "gateway/mqtt/mqtt_packets.h"
#include "gateway/mqtt/topic_template.h"

namespace msgin5g::gateway::mqtt {

Status ValidateLinkOptions(const LinkOptions& o) {
  if (o.host.empty()) return Status::InvalidArgument("mqtt: host is empty");
  if (o.port == 0) return Status::InvalidArgument("mqtt: port is 0");
  if (!o.clean_session && o.client_id.empty()) {
    return Status::InvalidArgument("mqtt: a persistent session (clean_session=false) needs a "
                                   "client_id");
  }
  if (o.client_id.size() > 65535 || !IsValidMqttUtf8(o.client_id)) {
    return Status::InvalidArgument("mqtt: client_id is not a valid MQTT string");
  }
  const auto ka = o.keepalive.count();
  if (ka != 0 && (ka < 5 || ka > 65535)) {
    return Status::InvalidArgument("mqtt: keepalive must be 0 or 5..65535 s");
  }
  if (o.reconnect_delay_min.count() < 1 || o.reconnect_delay_max < o.reconnect_delay_min) {
    return Status::InvalidArgument("mqtt: need 1 ms <= reconnect_delay_min <= reconnect_delay_max");
  }
  if (o.publish_timeout.count() <= 0) {
    return Status::InvalidArgument("mqtt: publish_timeout must be > 0");
  }
  // Publishes and SUBSCRIBEs share the 16-bit packet ids.
  if (o.max_in_flight < 1 || o.max_in_flight + o.subscriptions.size() > 65535) {
    return Status::InvalidArgument("mqtt: max_in_flight must be 1..65535 minus the subscriptions");
  }
  if (o.tls.cert_file.empty() != o.tls.key_file.empty()) {
    return Status::InvalidArgument("mqtt: tls cert_file and key_file go together");
  }
  for (const auto& s : o.subscriptions) {
    if (!wire::IsValidFilter(s.filter)) {
      return Status::InvalidArgument("mqtt: bad subscription filter '" + s.filter + "'");
    }
    if (s.qos < 0 || s.qos > 2) return Status::InvalidArgument("mqtt: subscription qos 0..2");
  }
  if (o.max_inbound_unacked < 1) return Status::InvalidArgument("mqtt: max_inbound_unacked >= 1");
  if (o.max_inbound_payload > wire::kMaxRemainingLength) {
    return Status::InvalidArgument("mqtt: max_inbound_payload above MQTT's 256 MiB");
  }
  return Status::Ok();
}

}  // namespace msgin5g::gateway::mqtt
