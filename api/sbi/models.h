// Typed mirrors of every schema in the five TS 29.538 V18.4.0 OpenAPI files
// (../shared/spec/openapi/TS29538_*.yaml). Type and member names are the schema's, so spec and code
// grep alike. Optional members are std::optional; extensible enumerations (anyOf enum | string) are
// kept as strings so values from newer releases pass through.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/http/problem.h"

namespace msgin5g::api::sbi {

// TS29538_MSGG_L3GDelivery.yaml
struct Address {
  std::string addrType;  // AddressType: UE | AS | GROUP | BC | TOPIC | (future)
  std::string addr;
};

// TS29538_MSGS_MSGDelivery.yaml
struct MessageSegmentParameters {
  std::optional<std::string> segId;
  std::optional<std::int64_t> totalSegCount;
  std::optional<std::int64_t> segNumb;
  std::optional<bool> lastSegFlag;
};

struct StoreAndForwardParameters {
  std::optional<std::string> exprTime;  // DateTime (RFC 3339), validated on decode
};

struct ASMessageDelivery {
  Address oriAddr;
  Address destAddr;
  std::optional<std::string> appId;
  std::string msgId;
  std::optional<bool> delivStReqInd;
  std::optional<std::string> payload;
  std::optional<std::string> priority;  // Priority: HIGH | MIDDLE | LOW | (future)
  std::optional<bool> segInd;
  std::optional<MessageSegmentParameters> segParams;
  bool stoAndFwInd = false;
  std::optional<StoreAndForwardParameters> stoAndFwParams;
  std::optional<std::int64_t> latency;
};

struct UEMessageDelivery {
  Address oriAddr;
  Address destAddr;
  std::optional<std::string> appId;
  std::string msgId;
  std::optional<bool> delivStReqInd;
  std::optional<std::string> payload;
  std::optional<bool> segInd;
  std::optional<MessageSegmentParameters> segParams;
  bool stoAndFwInd = false;
  std::optional<StoreAndForwardParameters> stoAndFwParams;
};

struct MessageDeliveryAck {
  Address oriAddr;
  std::string msgId;
  std::optional<std::string> status;  // DeliveryStatus: DELY_FAILED | DELY_STORED | (future)
  std::optional<std::string> failureCause;
};

struct DeliveryStatusReport {
  Address oriAddr;
  Address destAddr;
  std::string msgId;
  std::optional<std::string> failureCause;
  std::string delivSt;  // ReportDeliveryStatus: REPT_DELY_SUCCESS | REPT_DELY_FAILED | (future)
};

// TS29538_MSGS_ASRegistration.yaml
struct ASProfile {
  std::optional<std::string> appName;
  std::optional<std::vector<std::string>> appProviders;  // minItems 1
  std::optional<std::vector<std::string>> appSenarios;   // sic, as in the schema; minItems 1
  std::optional<std::string> appCategory;
  std::optional<std::string> asStatus;
};

struct ASRegistration {
  std::string asSvcId;
  std::optional<std::string> appId;
  std::optional<std::string> targetUri;  // Uri
  std::optional<ASProfile> asProf;
};

struct ASRegistrationAck {
  std::string asSvcId;
  http::ProblemDetails result;
};

// TS29538_MSGG_L3GDelivery.yaml / _N3GDelivery.yaml / _BGDelivery.yaml (server -> gateway)
struct L3gMessageDelivery {
  Address oriAddr;
  Address destAddr;
  std::optional<std::string> appId;
  std::string msgId;
  std::optional<bool> delivStReqInd;
  std::optional<std::string> payload;
  std::optional<bool> segInd;
  std::optional<MessageSegmentParameters> segParams;
};

struct N3gMessageDelivery {
  Address oriAddr;
  Address destAddr;
  std::optional<std::string> appId;
  std::string msgId;
  std::optional<bool> delivStReqInd;
  std::optional<std::string> payload;
  std::optional<bool> segInd;
  std::optional<MessageSegmentParameters> segParams;
};

struct BgMessageDelivery {
  Address oriAddr;
  Address destAddr;
  std::optional<std::string> appId;
  std::string msgId;
  std::optional<bool> delivStReqInd;
  std::optional<std::string> payload;
  std::optional<bool> segInd;
  std::optional<MessageSegmentParameters> segParams;
  std::optional<std::string> priority;
};

}  // namespace msgin5g::api::sbi
