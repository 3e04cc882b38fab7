#include "gateway/mqtt/topic_template.h"

#include <cstdint>

namespace msgin5g::gateway::mqtt {
namespace {

// Decodes one UTF-8 sequence at text[i]; returns its length, or 0 when it is malformed.
std::size_t DecodeOne(std::string_view text, std::size_t i, std::uint32_t* cp) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  std::size_t len = 0;
  std::uint32_t min = 0;
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, min = 0x80, *cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min = 0x800, *cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, *cp = b0 & 0x07;
  } else {
    return 0;  // a continuation byte or 0xF8..0xFF where a sequence should start
  }
  if (i + len > text.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    *cp = (*cp << 6) | (b & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF) return 0;   // overlong or beyond Unicode
  if (*cp >= 0xD800 && *cp <= 0xDFFF) return 0;  // UTF-16 surrogates are not characters
  return len;
}

bool IsRefusedCodePoint(std::uint32_t cp) {
  if (cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F)) return true;  // NUL, C0, DEL, C1
  if (cp >= 0xFDD0 && cp <= 0xFDEF) return true;             // non-characters
  return (cp & 0xFFFF) == 0xFFFE || (cp & 0xFFFF) == 0xFFFF;
}

}  // namespace

bool IsValidMqttUtf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    std::uint32_t cp = 0;
    const std::size_t n = DecodeOne(text, i, &cp);
    if (n == 0 || IsRefusedCodePoint(cp)) return false;
    i += n;
  }
  return true;
}

Result<TopicTemplate> TopicTemplate::Parse(std::string_view text, std::string_view placeholder,
                                           std::size_t max_value_bytes) {
  if (placeholder.size() < 3 || placeholder.front() != '{' || placeholder.back() != '}' ||
      placeholder.substr(1, placeholder.size() - 2).find_first_of("{}/+#") !=
          std::string_view::npos) {
    return Status::InvalidArgument("placeholder must look like {name}");
  }
  if (max_value_bytes == 0) return Status::InvalidArgument("max value length must be > 0");
  if (text.empty()) return Status::InvalidArgument("topic template is empty");
  if (text.size() > kMaxTopicBytes) return Status::InvalidArgument("topic template too long");
  if (!IsValidMqttUtf8(text)) {
    return Status::InvalidArgument("topic template is not valid UTF-8 or has control characters");
  }
  if (text.find_first_of("+#") != std::string_view::npos) {
    return Status::InvalidArgument("topic template must not contain wildcards '+' or '#'");
  }
  if (text.front() == '$') {
    return Status::InvalidArgument("topic template must not start with '$' (broker-reserved)");
  }
  const std::size_t at = text.find(placeholder);
  if (at == std::string_view::npos) {
    return Status::InvalidArgument("topic template has no " + std::string(placeholder));
  }
  const std::size_t end = at + placeholder.size();
  if (text.find(placeholder, end) != std::string_view::npos) {
    return Status::InvalidArgument("topic template has " + std::string(placeholder) +
                                   " more than once");
  }
  if ((at != 0 && text[at - 1] != '/') || (end != text.size() && text[end] != '/')) {
    return Status::InvalidArgument(std::string(placeholder) +
                                   " must fill a whole topic level");
  }
  TopicTemplate t;
  t.prefix_ = std::string(text.substr(0, at));
  t.suffix_ = std::string(text.substr(end));
  if ((t.prefix_ + t.suffix_).find_first_of("{}") != std::string::npos) {
    return Status::InvalidArgument("topic template has a '{' or '}' outside " +
                                   std::string(placeholder));
  }
  t.text_ = std::string(text);
  t.placeholder_ = std::string(placeholder);
  t.max_value_bytes_ = max_value_bytes;
  return t;
}

Status TopicTemplate::CheckValue(std::string_view value) const {
  if (value.empty()) return Status::InvalidArgument("empty topic value");
  if (value.size() > max_value_bytes_) {
    return Status::InvalidArgument("topic value longer than " + std::to_string(max_value_bytes_) +
                                   " bytes");
  }
  // '/' would add levels (another device's topic); '+' and '#' are wildcards.
  if (value.find_first_of("/+#") != std::string_view::npos) {
    return Status::InvalidArgument("topic value contains '/', '+' or '#'");
  }
  if (!IsValidMqttUtf8(value)) {  // also refuses NUL
    return Status::InvalidArgument("topic value is not valid UTF-8 or has control characters");
  }
  if (prefix_.empty() && value.front() == '$') {
    return Status::InvalidArgument("topic value must not start with '$' in the first level");
  }
  if (prefix_.size() + value.size() + suffix_.size() > kMaxTopicBytes) {
    return Status::InvalidArgument("topic too long");
  }
  return Status::Ok();
}

Result<std::string> TopicTemplate::Expand(std::string_view value) const {
  MSGIN5G_RETURN_IF_ERROR(CheckValue(value));
  std::string topic;
  topic.reserve(prefix_.size() + value.size() + suffix_.size());
  topic.append(prefix_).append(value).append(suffix_);
  return topic;
}

std::string TopicTemplate::Filter() const { return prefix_ + "+" + suffix_; }

std::optional<std::string> TopicTemplate::Match(std::string_view topic) const {
  if (topic.size() <= prefix_.size() + suffix_.size()) return std::nullopt;
  if (!topic.starts_with(prefix_) || !topic.ends_with(suffix_)) return std::nullopt;
  const std::string_view value =
      topic.substr(prefix_.size(), topic.size() - prefix_.size() - suffix_.size());
  if (!CheckValue(value).ok()) return std::nullopt;
  return std::string(value);
}

}  // namespace msgin5g::gateway::mqtt
