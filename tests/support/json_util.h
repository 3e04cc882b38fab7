// JSON helpers for tests that read answers and received bodies.
#pragma once

#include <string>

#include <boost/json.hpp>

namespace msgin5g::testing_support {

// The object `s` holds, or an empty object when it is not JSON or not an object.
inline boost::json::object Json(const std::string& s) {
  boost::json::error_code ec;
  auto v = boost::json::parse(s, ec);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

// A string member, or "" when absent or not a string.
inline std::string Str(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The "addr" of an Address member ({"addrType","addr"}), or "".
inline std::string Addr(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? Str(v->as_object(), "addr") : std::string();
}

}  // namespace msgin5g::testing_support
