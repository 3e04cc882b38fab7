#include "tools/msgin5gctl/output.h"

#include <algorithm>

#include <boost/json/serialize.hpp>

namespace msgin5gctl {

namespace json = boost::json;

std::string Table::Render() const {
  std::vector<std::size_t> widths(headers_.size(), 0);
  auto cell = [](const std::vector<std::string>& row, std::size_t i) {
    return i < row.size() && !row[i].empty() ? row[i] : std::string("-");
  };
  auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < widths.size(); ++i) widths[i] = std::max(widths[i], cell(row, i).size());
  };
  measure(headers_);
  for (const auto& r : rows_) measure(r);
  std::string out;
  auto line = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < widths.size(); ++i) {
      std::string c = cell(row, i);
      out += c;
      if (i + 1 < widths.size()) out += std::string(widths[i] - c.size() + 2, ' ');
    }
    out += '\n';
  };
  line(headers_);
  for (const auto& r : rows_) line(r);
  return out;
}

namespace {

bool IsAddress(const json::object& o) {
  const auto* t = o.if_contains("addrType");
  const auto* a = o.if_contains("addr");
  return o.size() == 2 && t != nullptr && a != nullptr && t->is_string() && a->is_string();
}

}  // namespace

std::string Cell(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "-";
    case json::kind::string:
      return std::string(v.get_string());
    case json::kind::bool_:
      return v.get_bool() ? "true" : "false";
    case json::kind::array: {
      std::string out;
      for (const auto& e : v.get_array()) {
        if (!out.empty()) out += ',';
        out += Cell(e);
      }
      return out;
    }
    case json::kind::object: {
      const auto& o = v.get_object();
      if (IsAddress(o)) {
        return std::string(o.at("addrType").get_string()) + ":" + std::string(o.at("addr").get_string());
      }
      return json::serialize(v);
    }
    default:  // numbers
      return json::serialize(v);
  }
}

std::string CellOf(const json::value& o, const char* key) {
  const auto* v = o.is_object() ? o.get_object().if_contains(key) : nullptr;
  return v == nullptr ? "-" : Cell(*v);
}

namespace {

void Flatten(const std::string& prefix, const json::object& o, Table* t) {
  for (const auto& kv : o) {
    std::string name = prefix + std::string(kv.key());
    const auto& v = kv.value();
    if (v.is_object() && !v.get_object().empty() && !IsAddress(v.get_object())) {
      Flatten(name + ".", v.get_object(), t);
    } else {
      t->Add({name, Cell(v)});
    }
  }
}

void Pretty(const json::value& v, const std::string& indent, std::string* out) {
  const std::string inner = indent + "  ";
  if (v.is_object() && !v.get_object().empty()) {
    *out += "{\n";
    bool first = true;
    for (const auto& kv : v.get_object()) {
      if (!first) *out += ",\n";
      first = false;
      *out += inner + json::serialize(json::value(kv.key())) + ": ";
      Pretty(kv.value(), inner, out);
    }
    *out += "\n" + indent + "}";
  } else if (v.is_array() && !v.get_array().empty()) {
    *out += "[\n";
    bool first = true;
    for (const auto& e : v.get_array()) {
      if (!first) *out += ",\n";
      first = false;
      *out += inner;
      Pretty(e, inner, out);
    }
    *out += "\n" + indent + "]";
  } else {
    *out += json::serialize(v);
  }
}

}  // namespace

Table FieldTable(const json::object& o) {
  Table t({"FIELD", "VALUE"});
  Flatten("", o, &t);
  return t;
}

std::string PrettyJson(const json::value& v) {
  std::string out;
  Pretty(v, "", &out);
  return out + "\n";
}

}  // namespace msgin5gctl
