// Admin API details from the attack report, against the real msgin5gd with curl: ids that hold a
// '/' are found again percent-encoded, and a routing rule must name its gateway.
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/support/daemon_harness.h"
#include "tests/support/test_util.h"

namespace msgin5g {
namespace {

namespace ts = testing_support;

boost::json::object Json(const std::string& s) {
  boost::json::error_code ec;
  auto v = boost::json::parse(s, ec);
  return !ec && v.is_object() ? v.as_object() : boost::json::object{};
}

class AdminE2E : public ::testing::Test {
 protected:
  ts::CurlResult Admin(const std::string& method, const std::string& path,
                       const std::string& body = "") {
    return d_.Admin(method, path, body);
  }
  ts::TempDir dir_;
  ts::Daemon d_{dir_.File("data"), dir_.path()};
};

// An address with a '/' is accepted by the SBI and stored; the admin API finds its queue and its
// message as ue%2F1 (it used to refuse every encoded slash, so they could not be looked up).
TEST_F(AdminE2E, AnAddressWithASlashIsFoundPercentEncoded) {
  ASSERT_TRUE(d_.ok()) << d_.log();
  auto sent = ts::Curl({"--http2-prior-knowledge", "-H", "content-type: application/json", "-d",
                        R"({"oriAddr":{"addrType":"AS","addr":"as/1"},"destAddr":{"addrType":"UE","addr":"ue/1"},"msgId":"m/1","stoAndFwInd":true,"payload":"hello"})",
                        "http://" + d_.sbi() + "/msgs-msgdelivery/v1/deliver-as-message"});
  ASSERT_EQ(sent.status, 200) << sent.body;
  auto queue = Admin("GET", "/queues/UE/ue%2F1");
  ASSERT_EQ(queue.status, 200) << queue.body;
  EXPECT_EQ(Json(queue.body)["count"].to_number<int>(), 1) << queue.body;
  EXPECT_EQ(Json(Admin("GET", "/queues/UE/ue").body)["count"].to_number<int>(), 0);
  auto msg = Admin("GET", "/messages/AS/as%2F1/m%2F1");
  ASSERT_EQ(msg.status, 200) << msg.body;
  EXPECT_EQ(Json(msg.body)["state"].as_string(), "PENDING") << msg.body;
  // A NUL is never data.
  EXPECT_EQ(Admin("GET", "/queues/UE/ue%00").status, 400);
}

// A rule's gateway must name a configured gateway; an empty name is refused (omitting it routes
// directly), and nothing is stored.
TEST_F(AdminE2E, RoutingRuleToAnEmptyGatewayIsRefused) {
  ASSERT_TRUE(d_.ok()) << d_.log();
  auto empty = Admin("PUT", "/routing-rules/r1", R"({"pattern":"ue-*","gateway":""})");
  EXPECT_EQ(empty.status, 400) << empty.body;
  auto p = Json(empty.body);
  EXPECT_EQ(p["cause"].as_string(), "MANDATORY_IE_INCORRECT");
  EXPECT_EQ(p["invalidParams"].as_array().at(0).as_object()["param"].as_string(), "/gateway");
  auto unknown = Admin("PUT", "/routing-rules/r1", R"({"pattern":"ue-*","gateway":"nope"})");
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_EQ(Admin("GET", "/routing-rules").body.find("r1"), std::string::npos);
  auto direct = Admin("PUT", "/routing-rules/r2", R"({"pattern":"ue-*"})");
  EXPECT_EQ(direct.status, 200) << direct.body;
}

// A member name given twice is refused with its pointer (it used to take the last one), for the
// admin API's bodies as for the SBI's, and nothing is stored.
TEST_F(AdminE2E, DuplicateMemberNamesAreRefused) {
  ASSERT_TRUE(d_.ok()) << d_.log();
  auto dup = Admin("PUT", "/routing-rules/r3", R"({"pattern":"ue-*","order":1,"order":2})");
  EXPECT_EQ(dup.status, 400) << dup.body;
  auto p = Json(dup.body);
  EXPECT_EQ(p["cause"].as_string(), "INVALID_MSG_FORMAT");
  EXPECT_EQ(p["invalidParams"].as_array().at(0).as_object()["param"].as_string(), "/order");
  EXPECT_EQ(Admin("GET", "/routing-rules").body.find("r3"), std::string::npos);
  auto group = Admin("PUT", "/groups/g1",
                     R"({"members":[{"addrType":"UE","addr":"a","addr":"b"}]})");
  EXPECT_EQ(group.status, 400) << group.body;
  EXPECT_EQ(Admin("GET", "/groups").body.find("g1"), std::string::npos);
}

// The inventory and resend routes answer bad parameters with ProblemDetails naming them.
TEST_F(AdminE2E, BadInventoryAndResendParametersAreProblemDetails) {
  ASSERT_TRUE(d_.ok()) << d_.log();
  auto ues = Admin("GET", "/destinations?ues=bad");
  EXPECT_EQ(ues.status, 400) << ues.body;
  EXPECT_EQ(Json(ues.body)["invalidParams"].as_array().at(0).as_object()["param"].as_string(), "ues");
  auto limit = Admin("GET", "/queues?limit=0");
  EXPECT_EQ(limit.status, 400) << limit.body;
  EXPECT_EQ(Json(limit.body)["invalidParams"].as_array().at(0).as_object()["param"].as_string(),
            "limit");
  auto type = Admin("POST", "/messages/XX/a/m-1/resend");
  EXPECT_EQ(type.status, 400) << type.body;
  EXPECT_EQ(Json(type.body)["cause"].as_string(), "INVALID_MSG_FORMAT");
  auto unknown = Admin("POST", "/messages/AS/as-1/m-1/resend");
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_EQ(Json(unknown.body)["status"].as_int64(), 404);
}

}  // namespace
}  // namespace msgin5g
