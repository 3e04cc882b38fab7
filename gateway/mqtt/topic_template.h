// A topic with one placeholder level, e.g. "msgin5g/{ueSvcId}/down" or "msgin5g/bc/{areaId}".
//
// The value put into the placeholder comes from outside (a UE service id, a Broadcast Area id),
// so Expand refuses anything that could change which topic is published to: a '/' would add
// levels (another device's topic), '+' and '#' are wildcards, NUL ends C strings early, and
// invalid UTF-8 or control characters are malformed MQTT (libmosquitto refuses them). Match
// applies the same rules, so Match(Expand(v)) == v and nothing else matches.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace msgin5g::gateway::mqtt {

// True when `text` is UTF-8 as MQTT accepts it in a topic: no overlong forms, surrogates,
// code points above U+10FFFF, non-characters, NUL or other C0/C1 control characters.
bool IsValidMqttUtf8(std::string_view text);

class TopicTemplate {
 public:
  static constexpr std::size_t kDefaultMaxValueBytes = 128;
  static constexpr std::size_t kMaxTopicBytes = 65535;  // MQTT string length limit

  // `placeholder` is the whole token, braces included ("{ueSvcId}"). It must occur exactly once
  // in `text` and be a whole topic level; `text` must be a valid publish topic (no '+', '#',
  // not starting with '$', valid UTF-8) and hold no other '{' or '}' (a misspelt placeholder
  // would otherwise become a literal level that every UE shares).
  static Result<TopicTemplate> Parse(std::string_view text, std::string_view placeholder,
                                     std::size_t max_value_bytes = kDefaultMaxValueBytes);

  // The concrete topic for `value`, or InvalidArgument when the value is empty, longer than
  // max_value_bytes, holds '/', '+', '#', NUL, a control character or invalid UTF-8, or starts
  // with '$' where the placeholder is the first level (a broker-reserved "$SYS" topic).
  Result<std::string> Expand(std::string_view value) const;

  // The subscription filter: the template with '+' in place of the placeholder.
  std::string Filter() const;

  // The placeholder's value in a concrete topic, when the topic fits the template and the value
  // is one Expand would accept; nullopt otherwise.
  std::optional<std::string> Match(std::string_view topic) const;

  const std::string& text() const { return text_; }
  const std::string& placeholder() const { return placeholder_; }

 private:
  TopicTemplate() = default;
  Status CheckValue(std::string_view value) const;

  std::string text_;
  std::string placeholder_;
  std::string prefix_;  // everything before the placeholder ("msgin5g/")
  std::string suffix_;  // everything after it ("/down")
  std::size_t max_value_bytes_ = kDefaultMaxValueBytes;
};

}  // namespace msgin5g::gateway::mqtt
