// The MSGin5G Server's SBI operations (TS 29.538 clause 5.2): MSGS_ASRegistration and
// MSGS_MSGDelivery, translated between the wire schemas and the broker.
#pragma once

#include <string>

#include "api/auth/authorizer.h"
#include "api/delivery/target_uri.h"
#include "api/http/router.h"
#include "api/sbi/broker_mapping.h"  // SetMaxMessageTtl, shared with the CoAP endpoint
#include "api/sbi/models.h"
#include "broker/broker.h"

namespace msgin5g::api {

// Adds: POST   /msgs-asregistration/v1/registrations
//       DELETE /msgs-asregistration/v1/registrations/{registrationId}
//       POST   /msgs-msgdelivery/v1/deliver-as-message
//       POST   /msgs-msgdelivery/v1/deliver-ue-message
//       POST   /msgs-msgdelivery/v1/deliver-report
// `api_root` is the router's prefix, used to build Location headers. The broker must outlive the
// router. Each operation runs behind `auth`'s guard (API msgs-asregistration or
// msgs-msgdelivery) and its address admission; `auth` must outlive the router.
// `targets` judges and normalises each registration's targetUri (api/delivery/target_uri.h) and
// must outlive the router; nullptr: a TargetUriPolicy with private targets allowed and no listeners.
void AddMsgsRoutes(http::Router& router, broker::Broker& broker, const std::string& api_root,
                   auth::Authorizer& auth, const TargetUriPolicy* targets = nullptr);

}  // namespace msgin5g::api
