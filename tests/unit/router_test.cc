// Unit tests for api/http/router.h: matching, {param} extraction, apiRoot and the 400/404/405
// ProblemDetails answers.

#include "api/http/router.h"

#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace msgin5g::api::http {
namespace {

namespace json = boost::json;
using testing::ElementsAre;
using testing::HasSubstr;
using testing::Pair;
using testing::UnorderedElementsAre;

Request Req(std::string method, std::string target) {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  return r;
}

// A router with the MSGS routes; each handler records its name in `called`.
class RouterTest : public testing::Test {
 protected:
  explicit RouterTest(std::string api_root = "") : router_(std::move(api_root)) {
    Add("POST", "/msgs-asregistration/v1/registrations", "register-as");
    Add("DELETE", "/msgs-asregistration/v1/registrations/{registrationId}", "deregister-as");
    Add("PUT", "/msgs-asregistration/v1/registrations/{registrationId}", "update-as");
    Add("POST", "/msgs-msgdelivery/v1/deliver-as-message", "deliver-as-message");
    Add("POST", "/msgs-msgdelivery/v1/deliver-ue-message", "deliver-ue-message");
    Add("GET", "/test/v1/{a}/items/{b}", "two-params");
    Add("GET", "/", "root");
  }

  void Add(const std::string& method, const std::string& pattern, const std::string& op) {
    router_.Add(method, pattern, op, [this, op](Request&, Responder) { called_.push_back(op); });
  }

  // Resolves and, when a handler matched, runs it.
  Router::Match Resolve(Request& req) {
    Router::Match m = router_.Resolve(req);
    if (m.handler != nullptr) (*m.handler)(req, Responder());
    return m;
  }

  Router router_;
  std::vector<std::string> called_;
};

class ApiRootRouterTest : public RouterTest {
 protected:
  ApiRootRouterTest() : RouterTest("/msgin5g/") {}
};

json::object ProblemBody(const Response& r) {
  json::value v = json::parse(r.body);
  EXPECT_TRUE(v.is_object()) << r.body;
  return v.is_object() ? v.as_object() : json::object{};
}

void ExpectProblem(const Router::Match& m, int status, std::string_view cause) {
  EXPECT_EQ(m.handler, nullptr);
  ASSERT_TRUE(m.error.has_value());
  EXPECT_EQ(m.error->status, status);
  EXPECT_EQ(FindHeader(m.error->headers, "content-type"), "application/problem+json");
  json::object body = ProblemBody(*m.error);
  ASSERT_TRUE(body.contains("status")) << m.error->body;
  EXPECT_EQ(body.at("status").to_number<int>(), status);
  ASSERT_TRUE(body.contains("cause")) << m.error->body;
  EXPECT_EQ(body.at("cause").as_string(), cause);
}

TEST_F(RouterTest, ExactPathMatchesItsHandler) {
  Request req = Req("POST", "/msgs-msgdelivery/v1/deliver-as-message");
  Router::Match m = Resolve(req);
  ASSERT_NE(m.handler, nullptr);
  EXPECT_FALSE(m.error.has_value());
  EXPECT_THAT(called_, ElementsAre("deliver-as-message"));
  EXPECT_EQ(req.path, "/msgs-msgdelivery/v1/deliver-as-message");
  EXPECT_TRUE(req.path_params.empty());
}

TEST_F(RouterTest, SimilarPathsPickTheRightHandler) {
  Request req = Req("POST", "/msgs-msgdelivery/v1/deliver-ue-message");
  ASSERT_NE(Resolve(req).handler, nullptr);
  EXPECT_THAT(called_, ElementsAre("deliver-ue-message"));
}

TEST_F(RouterTest, RootPathMatches) {
  Request req = Req("GET", "/");
  ASSERT_NE(Resolve(req).handler, nullptr);
  EXPECT_THAT(called_, ElementsAre("root"));
}

TEST_F(RouterTest, PathParameterIsExtracted) {
  Request req = Req("DELETE", "/msgs-asregistration/v1/registrations/0123abcd");
  ASSERT_NE(Resolve(req).handler, nullptr);
  EXPECT_THAT(called_, ElementsAre("deregister-as"));
  EXPECT_THAT(req.path_params, ElementsAre(Pair("registrationId", "0123abcd")));
  EXPECT_EQ(req.PathParam("registrationId"), "0123abcd");
}

TEST_F(RouterTest, PathParameterIsPercentDecoded) {
  Request req = Req("DELETE", "/msgs-asregistration/v1/registrations/a%20b%2Bc%41%e2%82%ac");
  ASSERT_NE(Resolve(req).handler, nullptr);
  EXPECT_EQ(req.PathParam("registrationId"), "a b+cA\xe2\x82\xac");
}

TEST_F(RouterTest, SeveralPathParametersAreExtractedInOrder) {
  Request req = Req("GET", "/test/v1/first/items/second");
  ASSERT_NE(Resolve(req).handler, nullptr);
  EXPECT_THAT(req.path_params, ElementsAre(Pair("a", "first"), Pair("b", "second")));
  EXPECT_EQ(req.PathParam("b"), "second");
  EXPECT_EQ(req.PathParam("missing"), "");
}

TEST_F(RouterTest, LiteralSegmentsArePercentDecodedBeforeMatching) {
  Request req = Req("POST", "/msgs-msgdelivery/v1/deliver%2Das-message");
  ASSERT_NE(Resolve(req).handler, nullptr);
  EXPECT_THAT(called_, ElementsAre("deliver-as-message"));
}

TEST_F(RouterTest, UnknownPathIs404ProblemDetails) {
  Request req = Req("POST", "/msgs-msgdelivery/v1/no-such-operation");
  Router::Match m = Resolve(req);
  ExpectProblem(m, 404, "RESOURCE_URI_STRUCTURE_NOT_FOUND");
  EXPECT_EQ(m.operation, "unknown");
  EXPECT_TRUE(called_.empty());
  json::object body = ProblemBody(*m.error);
  EXPECT_EQ(body.at("title").as_string(), "Not Found");
}

TEST_F(RouterTest, PathWithExtraSegmentIs404) {
  Request req = Req("POST", "/msgs-msgdelivery/v1/deliver-as-message/extra");
  ExpectProblem(Resolve(req), 404, "RESOURCE_URI_STRUCTURE_NOT_FOUND");
}

TEST_F(RouterTest, EmptyParameterSegmentDoesNotMatch) {
  Request req = Req("GET", "/test/v1//items/x");
  ExpectProblem(Resolve(req), 404, "RESOURCE_URI_STRUCTURE_NOT_FOUND");
}

TEST_F(RouterTest, MatchingIsCaseSensitive) {
  Request req = Req("POST", "/MSGS-MSGDELIVERY/v1/deliver-as-message");
  ExpectProblem(Resolve(req), 404, "RESOURCE_URI_STRUCTURE_NOT_FOUND");
}

TEST_F(RouterTest, WrongMethodIs405WithAllowListingTheMethods) {
  Request req = Req("GET", "/msgs-asregistration/v1/registrations/abc");
  Router::Match m = Resolve(req);
  ExpectProblem(m, 405, "METHOD_NOT_ALLOWED");
  EXPECT_TRUE(called_.empty());
  std::string allow(FindHeader(m.error->headers, "allow"));
  std::vector<std::string> methods;
  for (std::size_t start = 0; start <= allow.size();) {
    auto comma = allow.find(',', start);
    if (comma == std::string::npos) comma = allow.size();
    std::string token = allow.substr(start, comma - start);
    token.erase(0, token.find_first_not_of(' '));
    methods.push_back(token);
    start = comma + 1;
  }
  EXPECT_THAT(methods, UnorderedElementsAre("DELETE", "PUT")) << allow;
  EXPECT_EQ(ProblemBody(*m.error).at("title").as_string(), "Method Not Allowed");
}

TEST_F(RouterTest, WrongMethodOnSingleMethodRouteAllowsOnlyThatMethod) {
  Request req = Req("GET", "/msgs-msgdelivery/v1/deliver-as-message");
  Router::Match m = Resolve(req);
  ExpectProblem(m, 405, "METHOD_NOT_ALLOWED");
  EXPECT_EQ(FindHeader(m.error->headers, "allow"), "POST");
}

TEST_F(RouterTest, MethodIsCaseSensitive) {
  Request req = Req("post", "/msgs-msgdelivery/v1/deliver-as-message");
  ExpectProblem(Resolve(req), 405, "METHOD_NOT_ALLOWED");
}

TEST_F(RouterTest, QueryStringIsIgnoredForMatching) {
  Request req = Req("DELETE", "/msgs-asregistration/v1/registrations/r1?force=true&x=%zz");
  ASSERT_NE(Resolve(req).handler, nullptr);
  EXPECT_EQ(req.PathParam("registrationId"), "r1");
  EXPECT_EQ(req.path, "/msgs-asregistration/v1/registrations/r1");
}

TEST_F(RouterTest, FragmentIsIgnoredForMatching) {
  Request req = Req("POST", "/msgs-msgdelivery/v1/deliver-as-message#frag");
  ASSERT_NE(Resolve(req).handler, nullptr);
  EXPECT_EQ(req.path, "/msgs-msgdelivery/v1/deliver-as-message");
}

TEST_F(RouterTest, MalformedPercentEncodingIs400InvalidMsgFormat) {
  for (const char* target : {"/msgs-asregistration/v1/registrations/a%zz",
                             "/msgs-asregistration/v1/registrations/a%4",
                             "/msgs-asregistration/v1/registrations/a%",
                             "/msgs-asregistration/v1/registrations/%g1b"}) {
    Request req = Req("DELETE", target);
    SCOPED_TRACE(target);
    ExpectProblem(Resolve(req), 400, "INVALID_MSG_FORMAT");
  }
  EXPECT_TRUE(called_.empty());
}

// An encoded slash is data inside its segment (RFC 3986 2.2): a parameter may hold one (ids such
// as "a/b" are looked up as a%2Fb), a literal segment never matches it.
TEST_F(RouterTest, EncodedSlashIsDataOfItsSegment) {
  for (const char* target : {"/msgs-asregistration/v1/registrations/a%2Fb",
                             "/msgs-asregistration/v1/registrations/a%2fb"}) {
    Request req = Req("DELETE", target);
    SCOPED_TRACE(target);
    ASSERT_NE(Resolve(req).handler, nullptr);
    EXPECT_EQ(req.PathParam("registrationId"), "a/b");
  }
  Request req = Req("DELETE", "/msgs-asregistration%2Fv1/registrations/abc");
  ExpectProblem(Resolve(req), 404, "RESOURCE_URI_STRUCTURE_NOT_FOUND");
}

TEST_F(RouterTest, EncodedNulIsRejected) {
  Request req = Req("DELETE", "/msgs-asregistration/v1/registrations/a%00b");
  ExpectProblem(Resolve(req), 400, "INVALID_MSG_FORMAT");
}

TEST_F(RouterTest, TrailingSlashIsTolerated) {
  Request req = Req("POST", "/msgs-msgdelivery/v1/deliver-as-message/");
  ASSERT_NE(Resolve(req).handler, nullptr);
  EXPECT_THAT(called_, ElementsAre("deliver-as-message"));
}

TEST_F(RouterTest, TrailingSlashAfterParameterIsTolerated) {
  Request req = Req("DELETE", "/msgs-asregistration/v1/registrations/r1/");
  ASSERT_NE(Resolve(req).handler, nullptr);
  EXPECT_EQ(req.PathParam("registrationId"), "r1");
}

TEST_F(RouterTest, OperationNameIsSetOnTheRequestAndMatch) {
  Request req = Req("PUT", "/msgs-asregistration/v1/registrations/r1");
  Router::Match m = Resolve(req);
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(req.operation, "update-as");
  EXPECT_EQ(m.operation, "update-as");
}

TEST_F(RouterTest, UnmatchedRequestKeepsOperationUnset) {
  Request req = Req("POST", "/nowhere");
  Router::Match m = Resolve(req);
  EXPECT_EQ(m.operation, "unknown");
  EXPECT_TRUE(req.operation.empty());
}

TEST_F(RouterTest, OperationsListsEveryRoute) {
  EXPECT_THAT(router_.Operations(),
              UnorderedElementsAre("register-as", "deregister-as", "update-as",
                                   "deliver-as-message", "deliver-ue-message", "two-params",
                                   "root"));
}

TEST_F(RouterTest, ReusedRequestGetsFreshPathParams) {
  Request req = Req("GET", "/test/v1/x/items/y");
  ASSERT_NE(Resolve(req).handler, nullptr);
  req.target = "/msgs-asregistration/v1/registrations/r9";
  req.method = "DELETE";
  ASSERT_NE(Resolve(req).handler, nullptr);
  EXPECT_THAT(req.path_params, ElementsAre(Pair("registrationId", "r9")));
}

TEST_F(ApiRootRouterTest, ApiRootPrefixIsRequired) {
  Request req = Req("POST", "/msgs-msgdelivery/v1/deliver-as-message");
  ExpectProblem(Resolve(req), 404, "RESOURCE_URI_STRUCTURE_NOT_FOUND");
  EXPECT_TRUE(called_.empty());
}

TEST_F(ApiRootRouterTest, ApiRootPrefixIsStripped) {
  Request req = Req("DELETE", "/msgin5g/msgs-asregistration/v1/registrations/r1?x=1");
  ASSERT_NE(Resolve(req).handler, nullptr);
  EXPECT_THAT(called_, ElementsAre("deregister-as"));
  EXPECT_EQ(req.path, "/msgs-asregistration/v1/registrations/r1");
  EXPECT_EQ(req.PathParam("registrationId"), "r1");
}

TEST_F(ApiRootRouterTest, ApiRootMustEndAtASegmentBoundary) {
  Request req = Req("POST", "/msgin5gx/msgs-msgdelivery/v1/deliver-as-message");
  ExpectProblem(Resolve(req), 404, "RESOURCE_URI_STRUCTURE_NOT_FOUND");
}

TEST_F(ApiRootRouterTest, ApiRootAloneIsTheRootPath) {
  Request req = Req("GET", "/msgin5g");
  ASSERT_NE(Resolve(req).handler, nullptr);
  EXPECT_THAT(called_, ElementsAre("root"));
  EXPECT_EQ(req.path, "/");
}

TEST(SplitPath, SplitsAndDecodesSegments) {
  std::vector<std::string> segs;
  ASSERT_TRUE(SplitPath("/a/b%20c/d", &segs));
  EXPECT_THAT(segs, ElementsAre("a", "b c", "d"));
}

TEST(SplitPath, DropsOneTrailingSlash) {
  std::vector<std::string> segs;
  ASSERT_TRUE(SplitPath("/a/b/", &segs));
  EXPECT_THAT(segs, ElementsAre("a", "b"));
}

TEST(SplitPath, KeepsEmptyInnerSegments) {
  std::vector<std::string> segs;
  ASSERT_TRUE(SplitPath("/a//b", &segs));
  EXPECT_THAT(segs, ElementsAre("a", "", "b"));
}

TEST(SplitPath, RejectsPathsNotStartingWithSlash) {
  std::vector<std::string> segs;
  EXPECT_FALSE(SplitPath("", &segs));
  EXPECT_FALSE(SplitPath("a/b", &segs));
  EXPECT_FALSE(SplitPath("*", &segs));
}

TEST(SplitPath, RejectsControlCharactersAndSpaces) {
  std::vector<std::string> segs;
  EXPECT_FALSE(SplitPath("/a b", &segs));
  EXPECT_FALSE(SplitPath("/a\tb", &segs));
  EXPECT_FALSE(SplitPath("/a\x7f", &segs));
  EXPECT_FALSE(SplitPath(std::string_view("/a\0b", 4), &segs));
}

TEST(SplitPath, DecodesPercentEscapeAtTheVeryEnd) {
  std::vector<std::string> segs;
  ASSERT_TRUE(SplitPath("/ab%41", &segs));
  EXPECT_THAT(segs, ElementsAre("abA"));
}

}  // namespace
}  // namespace msgin5g::api::http
