// Unit tests for api/http/problem.h: ProblemDetails bodies, Retry-After, Status -> HTTP mapping.

#include "api/http/problem.h"

#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace msgin5g::api::http {
namespace {

namespace json = boost::json;

json::object Body(const Response& r) {
  json::value v = json::parse(r.body);
  EXPECT_TRUE(v.is_object()) << r.body;
  return v.is_object() ? v.as_object() : json::object{};
}

std::size_t HeaderCount(const Response& r, std::string_view name) {
  std::size_t n = 0;
  for (const auto& h : r.headers) n += h.name == name ? 1 : 0;
  return n;
}

// Retry-After is process-wide; every test starts and ends at the default.
class Problem : public testing::Test {
 protected:
  void SetUp() override { SetRetryAfterSeconds(1); }
  void TearDown() override { SetRetryAfterSeconds(1); }
};

TEST_F(Problem, MakeProblemSetsStatusTitleCauseAndDetail) {
  Response r = MakeProblem(404, cause::kRegistrationNotFound, "no AS registration r1");
  EXPECT_EQ(r.status, 404);
  json::object b = Body(r);
  EXPECT_EQ(b.at("status").to_number<int>(), 404);
  EXPECT_EQ(b.at("title").as_string(), "Not Found");
  EXPECT_EQ(b.at("cause").as_string(), "REGISTRATION_NOT_FOUND");
  EXPECT_EQ(b.at("detail").as_string(), "no AS registration r1");
}

TEST_F(Problem, MakeProblemUsesProblemJsonContentType) {
  Response r = MakeProblem(400, cause::kInvalidMsgFormat, "bad");
  EXPECT_EQ(FindHeader(r.headers, "content-type"), "application/problem+json");
  EXPECT_EQ(HeaderCount(r, "content-type"), 1u);
}

TEST_F(Problem, MakeProblemListsInvalidParams) {
  Response r = MakeProblem(400, cause::kMandatoryIeMissing, "2 invalid members",
                           {{"/oriAddr/addr", "is required"}, {"/priority", ""}});
  json::object b = Body(r);
  ASSERT_TRUE(b.at("invalidParams").is_array());
  const json::array& params = b.at("invalidParams").as_array();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].at("param").as_string(), "/oriAddr/addr");
  EXPECT_EQ(params[0].at("reason").as_string(), "is required");
  EXPECT_EQ(params[1].at("param").as_string(), "/priority");
  EXPECT_FALSE(params[1].as_object().contains("reason"));  // empty reason is omitted
}

TEST_F(Problem, MakeProblemWithoutInvalidParamsOmitsTheMember) {
  json::object b = Body(MakeProblem(500, cause::kSystemFailure, "boom"));
  EXPECT_FALSE(b.contains("invalidParams"));
  EXPECT_FALSE(b.contains("type"));
  EXPECT_FALSE(b.contains("instance"));
}

TEST_F(Problem, MakeProblemWithEmptyDetailOmitsTheMember) {
  json::object b = Body(MakeProblem(409, "CONFLICT", ""));
  EXPECT_FALSE(b.contains("detail"));
  EXPECT_EQ(b.at("title").as_string(), "Conflict");
}

TEST_F(Problem, DetailWithJsonSpecialCharactersIsEscaped) {
  std::string detail = "quote \" backslash \\ newline \n";
  json::object b = Body(MakeProblem(400, cause::kInvalidMsgFormat, detail));
  EXPECT_EQ(b.at("detail").as_string(), detail);
}

TEST_F(Problem, ServiceUnavailableCarriesRetryAfter) {
  Response r = MakeProblem(503, cause::kNfCongestion, "overloaded");
  EXPECT_EQ(FindHeader(r.headers, "retry-after"), "1");
  EXPECT_EQ(HeaderCount(r, "retry-after"), 1u);
}

TEST_F(Problem, TooManyRequestsCarriesRetryAfter) {
  Response r = MakeProblem(429, cause::kNfCongestionRisk, "slow down");
  EXPECT_EQ(FindHeader(r.headers, "retry-after"), "1");
}

TEST_F(Problem, OtherStatusesCarryNoRetryAfter) {
  for (int status : {400, 404, 405, 413, 500, 504}) {
    Response r = MakeProblem(status, cause::kSystemFailure, "x");
    EXPECT_FALSE(HasHeader(r.headers, "retry-after")) << status;
  }
}

TEST_F(Problem, RetryAfterFollowsSetRetryAfterSeconds) {
  SetRetryAfterSeconds(30);
  EXPECT_EQ(FindHeader(MakeProblem(503, cause::kNfCongestion, "").headers, "retry-after"), "30");
  EXPECT_EQ(FindHeader(MakeProblem(429, cause::kNfCongestionRisk, "").headers, "retry-after"),
            "30");
}

TEST_F(Problem, NonPositiveRetryAfterFallsBackToOneSecond) {
  SetRetryAfterSeconds(0);
  EXPECT_EQ(FindHeader(MakeProblem(503, cause::kNfCongestion, "").headers, "retry-after"), "1");
  SetRetryAfterSeconds(-5);
  EXPECT_EQ(FindHeader(MakeProblem(503, cause::kNfCongestion, "").headers, "retry-after"), "1");
}

struct StatusMapping {
  StatusCode code;
  int http_status;
  std::string_view default_cause;
};

// The mapping documented on StatusCode in common/status.h, with the default causes of
// problem.cc (TS 29.500 Table 5.2.7.2-1 where one fits, the code's name otherwise).
const StatusMapping kMappings[] = {
    {StatusCode::kOk, 200, "OK"},
    {StatusCode::kInvalidArgument, 400, "INVALID_MSG_FORMAT"},
    {StatusCode::kUnauthenticated, 401, "UNAUTHENTICATED"},
    {StatusCode::kPermissionDenied, 403, "PERMISSION_DENIED"},
    {StatusCode::kNotFound, 404, "NOT_FOUND"},
    {StatusCode::kConflict, 409, "CONFLICT"},
    {StatusCode::kPayloadTooLarge, 413, "PAYLOAD_TOO_LARGE"},
    {StatusCode::kResourceExhausted, 503, "NF_CONGESTION"},
    {StatusCode::kRateLimited, 429, "NF_CONGESTION_RISK"},
    {StatusCode::kUnavailable, 503, "NF_CONGESTION"},
    {StatusCode::kDeadlineExceeded, 504, "DEADLINE_EXCEEDED"},
    {StatusCode::kCorruption, 500, "SYSTEM_FAILURE"},
    {StatusCode::kInternal, 500, "SYSTEM_FAILURE"},
};

TEST_F(Problem, ProblemFromStatusMapsEveryCodeToItsHttpStatus) {
  for (const auto& m : kMappings) {
    Response r = ProblemFromStatus(Status(m.code, "msg"));
    EXPECT_EQ(r.status, m.http_status) << StatusCodeName(m.code);
    EXPECT_EQ(Body(r).at("status").to_number<int>(), m.http_status) << StatusCodeName(m.code);
  }
}

TEST_F(Problem, ProblemFromStatusUsesTheDefaultCausePerCode) {
  for (const auto& m : kMappings) {
    Response r = ProblemFromStatus(Status(m.code, "msg"));
    EXPECT_EQ(Body(r).at("cause").as_string(), m.default_cause) << StatusCodeName(m.code);
  }
}

TEST_F(Problem, ProblemFromStatusRetryAfterExactlyOn503And429) {
  for (const auto& m : kMappings) {
    Response r = ProblemFromStatus(Status(m.code, "msg"));
    bool expected = m.http_status == 503 || m.http_status == 429;
    EXPECT_EQ(HasHeader(r.headers, "retry-after"), expected) << StatusCodeName(m.code);
  }
}

TEST_F(Problem, ProblemFromStatusExplicitCauseOverridesTheDefault) {
  Response r = ProblemFromStatus(Status::NotFound("no registered AS svc-9"),
                                 cause::kUnknownRecipient);
  EXPECT_EQ(r.status, 404);
  json::object b = Body(r);
  EXPECT_EQ(b.at("cause").as_string(), "UNKNOWN_RECIPIENT");
  EXPECT_EQ(b.at("detail").as_string(), "no registered AS svc-9");
}

TEST_F(Problem, ProblemFromStatusCarriesTheMessageAsDetail) {
  Response r = ProblemFromStatus(Status::ResourceExhausted("message store is full"));
  json::object b = Body(r);
  EXPECT_EQ(b.at("detail").as_string(), "message store is full");
  EXPECT_EQ(b.at("title").as_string(), "Service Unavailable");
}

TEST_F(Problem, EncodeProblemDetailsOmitsEmptyMembers) {
  ProblemDetails p;
  EXPECT_EQ(EncodeProblemDetails(p), "{}");
  p.status = 201;
  p.cause = std::string(cause::kSuccess);
  json::object b = json::parse(EncodeProblemDetails(p)).as_object();
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(b.at("status").to_number<int>(), 201);
  EXPECT_EQ(b.at("cause").as_string(), "SUCCESS");
}

TEST_F(Problem, EncodeProblemDetailsWritesEveryMember) {
  ProblemDetails p;
  p.type = "https://example.com/p";
  p.title = "Bad Request";
  p.status = 400;
  p.detail = "d";
  p.instance = "/i";
  p.cause = "C";
  p.invalid_params = {{"/x", "r"}};
  json::object b = json::parse(EncodeProblemDetails(p)).as_object();
  EXPECT_EQ(b.at("type").as_string(), "https://example.com/p");
  EXPECT_EQ(b.at("title").as_string(), "Bad Request");
  EXPECT_EQ(b.at("status").to_number<int>(), 400);
  EXPECT_EQ(b.at("detail").as_string(), "d");
  EXPECT_EQ(b.at("instance").as_string(), "/i");
  EXPECT_EQ(b.at("cause").as_string(), "C");
  EXPECT_EQ(b.at("invalidParams").at(0).at("param").as_string(), "/x");
  EXPECT_EQ(b.at("invalidParams").at(0).at("reason").as_string(), "r");
}

}  // namespace
}  // namespace msgin5g::api::http
