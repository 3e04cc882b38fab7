// TopicTemplate: parsing rules, expansion with every refusal (the injection attempts a UE id or
// area id could carry), the subscription filter, and matching concrete topics back.
#include "gateway/mqtt/topic_template.h"

#include <gtest/gtest.h>

#include <string>

namespace msgin5g::gateway::mqtt {
namespace {

using namespace std::string_literals;

TopicTemplate MustParse(std::string_view text, std::string_view ph) {
  auto t = TopicTemplate::Parse(text, ph);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return std::move(t).value();
}

TEST(TopicTemplateParse, AcceptsPlaceholderAsAWholeLevelAnywhere) {
  for (const char* text : {"msgin5g/{ueSvcId}/down", "{ueSvcId}/down", "msgin5g/down/{ueSvcId}",
                           "{ueSvcId}", "/msgin5g/{ueSvcId}"}) {
    auto t = TopicTemplate::Parse(text, "{ueSvcId}");
    EXPECT_TRUE(t.ok()) << text << ": " << t.status().ToString();
  }
  EXPECT_TRUE(TopicTemplate::Parse("msgin5g/bc/{areaId}", "{areaId}").ok());
}

TEST(TopicTemplateParse, Refusals) {
  const char* bad[] = {
      "",                                // empty
      "msgin5g/down",                    // no placeholder
      "msgin5g/{ueSvcId}/{ueSvcId}",     // twice
      "msgin5g/x{ueSvcId}/down",         // not a whole level
      "msgin5g/{ueSvcId}x/down",         // not a whole level
      "msgin5g/+/{ueSvcId}",             // wildcard
      "msgin5g/{ueSvcId}/#",             // wildcard
      "$SYS/{ueSvcId}",                  // broker-reserved
      "msgin5g/{ueSvcID}/{ueSvcId}",     // another (misspelt) placeholder
      "msgin5g/{ueSvcId}/do}wn",         // stray brace
      "msgin5g/{areaId}/down",           // the wrong placeholder
  };
  for (const char* text : bad) {
    auto t = TopicTemplate::Parse(text, "{ueSvcId}");
    EXPECT_FALSE(t.ok()) << "accepted: " << text;
    if (!t.ok()) {
      EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
    }
  }
  EXPECT_FALSE(TopicTemplate::Parse("msgin5g/{ueSvcId}\0/down"s, "{ueSvcId}").ok());  // NUL
  EXPECT_FALSE(TopicTemplate::Parse("msgin5g/\xC3(/{ueSvcId}", "{ueSvcId}").ok());  // bad UTF-8
  EXPECT_FALSE(TopicTemplate::Parse("msgin5g/{ueSvcId}", "ueSvcId").ok());  // no braces
  EXPECT_FALSE(TopicTemplate::Parse("msgin5g/{}", "{}").ok());
  EXPECT_FALSE(TopicTemplate::Parse("msgin5g/{a/b}", "{a/b}").ok());
  EXPECT_FALSE(TopicTemplate::Parse("msgin5g/{ueSvcId}", "{ueSvcId}", 0).ok());
}

TEST(TopicTemplateExpand, FillsThePlaceholder) {
  auto t = MustParse("msgin5g/{ueSvcId}/down", "{ueSvcId}");
  auto topic = t.Expand("ue-1");
  ASSERT_TRUE(topic.ok());
  EXPECT_EQ(*topic, "msgin5g/ue-1/down");
  EXPECT_EQ(*t.Expand("msisdn-491701234567@operator.example"),
            "msgin5g/msisdn-491701234567@operator.example/down");
  EXPECT_EQ(*t.Expand("ü-Gerät"), "msgin5g/ü-Gerät/down");  // UTF-8 is fine
  EXPECT_EQ(*t.Expand("$x"), "msgin5g/$x/down");             // '$' only matters first
}

TEST(TopicTemplateExpand, RefusesInjection) {
  auto t = MustParse("msgin5g/{ueSvcId}/down", "{ueSvcId}");
  const std::string bad[] = {
      "",                    // empty
      "ue-2/down/x",         // '/' would reach another device's topic
      "../ue-2",             // ditto
      "/",                   //
      "ue-1/",               //
      "+",                   // wildcards
      "ue+1",                //
      "#",                   //
      "ue#1",                //
      "ue\0-1"s,             // NUL ends a C string early: "msgin5g/ue" + ...
      "\0"s,                 //
      "ue\n1",               // control characters
      "ue\x7f",              //
      "ue\xC2\x85",          // C1 control (NEL)
      "\xC3(",               // invalid UTF-8
      "\xC0\xAF",            // overlong '/'
      "\xED\xA0\x80",        // a surrogate
      "\xF4\x90\x80\x80",    // above U+10FFFF
      "\xEF\xBF\xBF",        // U+FFFF non-character
      "\xE2\x82",            // truncated sequence
      std::string(129, 'a'), // over the bound
  };
  for (const auto& value : bad) {
    auto topic = t.Expand(value);
    EXPECT_FALSE(topic.ok()) << "accepted value of " << value.size() << " bytes -> "
                             << (topic.ok() ? *topic : "");
    if (!topic.ok()) {
      EXPECT_EQ(topic.status().code(), StatusCode::kInvalidArgument);
    }
  }
  EXPECT_TRUE(t.Expand(std::string(128, 'a')).ok());
}

TEST(TopicTemplateExpand, BoundIsConfigurable) {
  auto t = TopicTemplate::Parse("msgin5g/bc/{areaId}", "{areaId}", 4);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->Expand("abcd").ok());
  EXPECT_FALSE(t->Expand("abcde").ok());
}

TEST(TopicTemplateExpand, RefusesDollarInTheFirstLevel) {
  auto t = MustParse("{ueSvcId}/down", "{ueSvcId}");
  EXPECT_FALSE(t.Expand("$SYS").ok());
  EXPECT_TRUE(t.Expand("ue$1").ok());
}

TEST(TopicTemplateFilter, PlusForThePlaceholder) {
  EXPECT_EQ(MustParse("msgin5g/{ueSvcId}/up", "{ueSvcId}").Filter(), "msgin5g/+/up");
  EXPECT_EQ(MustParse("msgin5g/bc/{areaId}", "{areaId}").Filter(), "msgin5g/bc/+");
  EXPECT_EQ(MustParse("{ueSvcId}", "{ueSvcId}").Filter(), "+");
}

TEST(TopicTemplateMatch, ExtractsTheValue) {
  auto t = MustParse("msgin5g/{ueSvcId}/up", "{ueSvcId}");
  EXPECT_EQ(t.Match("msgin5g/ue-1/up"), "ue-1");
  EXPECT_EQ(t.Match(*t.Expand("ü-Gerät")), "ü-Gerät");
  auto area = MustParse("msgin5g/bc/{areaId}", "{areaId}");
  EXPECT_EQ(area.Match("msgin5g/bc/area-7"), "area-7");
}

TEST(TopicTemplateMatch, RefusesWhatDoesNotFit) {
  auto t = MustParse("msgin5g/{ueSvcId}/up", "{ueSvcId}");
  for (const std::string& topic :
       {"msgin5g//up"s, "msgin5g/up"s, "msgin5g/ue-1/down"s, "other/ue-1/up"s,
        "msgin5g/ue-1/x/up"s, "msgin5g/ue-1/up/x"s, "msgin5g/ue\0/up"s, "msgin5g/+/up"s,
        "msgin5g/\xC3(/up"s, "msgin5g/"s + std::string(129, 'a') + "/up"s, ""s}) {
    EXPECT_EQ(t.Match(topic), std::nullopt) << topic;
  }
}

TEST(MqttUtf8, Validation) {
  EXPECT_TRUE(IsValidMqttUtf8(""));
  EXPECT_TRUE(IsValidMqttUtf8("plain ascii ~"));
  EXPECT_TRUE(IsValidMqttUtf8("\xF0\x9F\x93\xA1"));  // U+1F4E1
  EXPECT_FALSE(IsValidMqttUtf8("\x80"));
  EXPECT_FALSE(IsValidMqttUtf8("\xF8\x88\x80\x80\x80"));
  EXPECT_FALSE(IsValidMqttUtf8("\xEF\xB7\x90"));  // U+FDD0 non-character
}

}  // namespace
}  // namespace msgin5g::gateway::mqtt
