// The admin tokens file: its format, and every way a line can be wrong (with its line number).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/auth/admin_guard.h"

namespace msgin5g::api::auth {
namespace {

using ::testing::HasSubstr;

std::string Error(const std::string& text) {
  auto r = ParseAdminTokens(text, "tokens");
  return r.ok() ? "" : r.status().message();
}

TEST(AdminTokens, HashIsSha256HexOfTheWholeToken) {
  // SHA-256("abc"), FIPS 180-2 appendix B.1.
  EXPECT_EQ(AdminTokenHash("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AdminTokens, ParsesNamesRolesAndHashesSkippingCommentsAndBlankLines) {
  auto r = ParseAdminTokens("# admins\n\n  ops read-write " + AdminTokenHash("t1") +
                                "  # the on-call\ngrafana read-only " + AdminTokenHash("t2") + "\n",
                            "tokens");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].name, "ops");
  EXPECT_EQ((*r)[0].role, AdminRole::kReadWrite);
  EXPECT_EQ((*r)[1].name, "grafana");
  EXPECT_EQ((*r)[1].role, AdminRole::kReadOnly);
  // SHA-256("t2") = c4447403...512e (sha256sum): the file's hex becomes these bytes.
  EXPECT_EQ((*r)[1].sha256[0], 0xc4);
  EXPECT_EQ((*r)[1].sha256[31], 0x2e);
}

TEST(AdminTokens, EveryBadLineIsNamed) {
  const std::string h = AdminTokenHash("x");
  EXPECT_EQ(Error("ops read-write\n"), "tokens:1: expected NAME ROLE sha256:HEX");
  EXPECT_EQ(Error("ok read-only " + h + "\nops read-write " + h + " extra\n"),
            "tokens:2: expected NAME ROLE sha256:HEX");
  EXPECT_THAT(Error("ops admin " + h), HasSubstr("tokens:1: role must be read-only or read-write"));
  EXPECT_THAT(Error("o/ps read-only " + h), HasSubstr("token name must be 1 to 64"));
  std::string too_long(65, 'a');
  too_long.append(" read-only ").append(h);
  EXPECT_THAT(Error(too_long), HasSubstr("token name must be"));
  EXPECT_THAT(Error("ops read-only sha1:" + h.substr(7)), HasSubstr("the hash must be sha256:"));
  EXPECT_THAT(Error("ops read-only " + h.substr(0, h.size() - 1)), HasSubstr("64 hex digits"));
  EXPECT_THAT(Error("ops read-only " + h.substr(0, h.size() - 1) + "g"),
              HasSubstr("not a hex digit"));
  EXPECT_THAT(Error("ops read-only " + h + "\nops read-write " + AdminTokenHash("y")),
              HasSubstr("tokens:2: token name \"ops\" is used twice"));
  EXPECT_EQ(LoadAdminTokens("/nonexistent/tokens").status().message(),
            "cannot read admin tokens file /nonexistent/tokens");
}

}  // namespace
}  // namespace msgin5g::api::auth
