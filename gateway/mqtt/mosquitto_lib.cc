#include "gateway/mqtt/mosquitto_lib.h"

#include <mosquitto.h>

#include <mutex>
#include <string>

namespace msgin5g::gateway::mqtt {

void EnsureMosquittoLibInit() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

Status StatusFromMosquitto(int rc, std::string_view what) {
  std::string message = std::string(what) + ": " + mosquitto_strerror(rc);
  switch (rc) {
    case MOSQ_ERR_SUCCESS:
      return Status::Ok();
    case MOSQ_ERR_INVAL:
    case MOSQ_ERR_MALFORMED_UTF8:
    case MOSQ_ERR_QOS_NOT_SUPPORTED:
    case MOSQ_ERR_NOT_SUPPORTED:
      return Status::InvalidArgument(std::move(message));
    case MOSQ_ERR_PAYLOAD_SIZE:
    case MOSQ_ERR_OVERSIZE_PACKET:
      return Status(StatusCode::kPayloadTooLarge, std::move(message));
    case MOSQ_ERR_NOMEM:
      return Status::ResourceExhausted(std::move(message));
    case MOSQ_ERR_NO_CONN:
    case MOSQ_ERR_CONN_LOST:
    case MOSQ_ERR_CONN_REFUSED:
    case MOSQ_ERR_ERRNO:
    case MOSQ_ERR_EAI:
    case MOSQ_ERR_TLS:
    case MOSQ_ERR_KEEPALIVE:
      return Status::Unavailable(std::move(message));
    default:
      return Status::Internal(std::move(message));
  }
}

}  // namespace msgin5g::gateway::mqtt
