// The few facts about libmosquitto 2.0 that MqttLink depends on, kept in one place.
#pragma once

#include <string_view>

#include "common/status.h"

namespace msgin5g::gateway::mqtt {

// Calls mosquitto_lib_init() once per process (thread-safe). mosquitto_lib_cleanup() is never
// called: other links may be alive until exit, and the OS reclaims everything then.
void EnsureMosquittoLibInit();

// A Status for a MOSQ_ERR_* code; `what` names the operation that failed.
Status StatusFromMosquitto(int rc, std::string_view what);

}  // namespace msgin5g::gateway::mqtt
