// token create: a new admin bearer token and the tokens-file line for it (offline).
#include "tools/msgin5gctl/handlers.h"
#include "tools/msgin5gctl/output.h"
#include "tools/msgin5gctl/token.h"

namespace msgin5gctl {

namespace json = boost::json;

Result<Rendered> RunTokenCreate(const CommandContext& c) {
  const std::string& name = c.args[0];
  if (!ValidTokenName(name)) return UsageError("token name must be 1 to 64 of [A-Za-z0-9._-]");
  auto role = c.inv.get("--role");
  if (!role) return UsageError("--role read-only|read-write is required");
  if (*role != "read-only" && *role != "read-write") {
    return UsageError("--role must be read-only or read-write, not \"" + *role + "\"");
  }
  auto token = NewAdminToken();
  if (!token.ok()) return token.error();
  const std::string line = name + " " + *role + " " + TokenHash(*token);
  json::object out{{"name", name}, {"role", *role}, {"token", *token}, {"line", line}};
  Rendered r = Show(out, FieldTable(out).Render());
  r.note = "add the line to msgin5gd's admin.tokens_file and reload it (SIGHUP); the token is "
           "not kept anywhere else";
  return r;
}

}  // namespace msgin5gctl
