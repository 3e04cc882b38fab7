#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "tools/msgin5gctl/handlers.h"

namespace msgin5gctl {

namespace json = boost::json;

Rendered Show(json::value j, std::string text) {
  Rendered r;
  r.json = std::move(j);
  r.text = std::move(text);
  return r;
}

Result<Rendered> DeleteResource(const CommandContext& c, const std::string& path, const char* key,
                                const std::string& what) {
  const std::string& id = c.args.at(0);
  auto res = c.api->Call("DELETE", path);
  if (!res.ok()) return res.error();
  return Show(json::object{{key, id}, {"deleted", true}}, what + " " + id + " deleted\n");
}

Result<json::object> CallForObject(const CommandContext& c, const std::string& method,
                                   const std::string& path, const std::string& body) {
  auto res = c.api->Call(method, path, body);
  if (!res.ok()) return res.error();
  if (!res->is_object()) {
    return Error{Exit::kRefused, method + " " + path + ": the answer is not a JSON object"};
  }
  return std::move(res->get_object());
}

Result<std::string> JsonInput(const CommandContext& c) {
  auto file = c.inv.get("--json");
  if (!file) return UsageError("--json FILE (or - for stdin) is required: the body to send");
  std::string body;
  if (*file == "-") {
    body.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(*file, std::ios::binary);
    if (!in) return UsageError("cannot read --json " + *file);
    std::ostringstream ss;
    ss << in.rdbuf();
    body = ss.str();
  }
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return UsageError("--json " + *file + " is empty");
  }
  return body;
}

}  // namespace msgin5gctl
