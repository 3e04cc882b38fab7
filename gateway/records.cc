#include "gateway/records.h"

#include <chrono>

#include <boost/json/parse.hpp>

namespace msgin5g::gateway {

std::string keys::Fixed(std::uint64_t v, int width) {
  std::string s = std::to_string(v);
  if (static_cast<int>(s.size()) < width) s.insert(0, static_cast<std::size_t>(width) - s.size(), '0');
  return s;
}

namespace rec {

namespace json = boost::json;

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json::object ToJson(const api::sbi::Address& a) { return {{"t", a.addrType}, {"a", a.addr}}; }

api::sbi::Address AddrOf(const json::object& o, const char* key) {
  api::sbi::Address a;
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_object()) return a;
  a.addrType = Str(v->as_object(), "t");
  a.addr = Str(v->as_object(), "a");
  return a;
}

std::string Str(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::int64_t Num(const json::object& o, const char* key, std::int64_t otherwise) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return otherwise;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  return otherwise;
}

bool Flag(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_bool() && v->as_bool();
}

std::optional<json::object> Parse(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

}  // namespace rec
}  // namespace msgin5g::gateway
