// routes list|put|delete (/admin/v1/routing-rules) and clients list|show|put|delete
// (/admin/v1/clients): bodies come from --json FILE or stdin and are sent as they are, so the
// server is the one judge of them.
#include "tools/msgin5gctl/address.h"
#include "tools/msgin5gctl/handlers.h"
#include "tools/msgin5gctl/output.h"

namespace msgin5gctl {

namespace json = boost::json;

namespace {

Table RulesTable() { return Table({"NAME", "PATTERN", "GATEWAY", "ORDER"}); }

void AddRule(Table* t, const json::value& r) {
  std::string gateway = CellOf(r, "gateway");
  bool direct = gateway.empty() || gateway == "-";
  t->Add({CellOf(r, "name"), CellOf(r, "pattern"), direct ? "(direct)" : gateway,
          CellOf(r, "order")});
}

Table ClientsTable() {
  return Table({"CLIENT", "SOURCE", "SECRET", "APIS", "DESTINATIONS", "ORIGINS", "RATE", "BURST",
                "TLS-IDENTITY", "PSK-IDENTITY"});
}

void AddClient(Table* t, const json::value& p) {
  t->Add({CellOf(p, "clientId"), CellOf(p, "source"), CellOf(p, "hasSecret"), CellOf(p, "apis"),
          CellOf(p, "destinations"), CellOf(p, "origins"), CellOf(p, "rateLimit"),
          CellOf(p, "rateBurst"), CellOf(p, "tlsIdentity"), CellOf(p, "pskIdentity")});
}

// GET a list answer {KEY: [...]} and one row per element.
Result<Rendered> List(const CommandContext& c, const std::string& path, const char* key, Table t,
                      void (*add)(Table*, const json::value&)) {
  auto res = CallForObject(c, "GET", path);
  if (!res.ok()) return res.error();
  const auto* items = res->if_contains(key);
  if (items == nullptr || !items->is_array()) {
    return Error{Exit::kRefused, "GET " + path + ": the answer has no \"" + key + "\" array"};
  }
  for (const auto& item : items->get_array()) add(&t, item);
  return Show(*res, t.Render());
}

// PUT path with the --json body; `render` shows the answer.
Result<Rendered> Put(const CommandContext& c, const std::string& path,
                     std::string (*render)(const json::object&)) {
  auto body = JsonInput(c);
  if (!body.ok()) return body.error();
  auto res = CallForObject(c, "PUT", path, *body);
  if (!res.ok()) return res.error();
  return Show(*res, render(*res));
}

std::string RuleText(const json::object& rule) {
  Table t = RulesTable();
  AddRule(&t, rule);
  return t.Render();
}

std::string ClientText(const json::object& client) { return FieldTable(client).Render(); }

}  // namespace

Result<Rendered> RunRoutesList(const CommandContext& c) {
  return List(c, "/routing-rules", "rules", RulesTable(), AddRule);
}

Result<Rendered> RunRoutesPut(const CommandContext& c) {
  return Put(c, "/routing-rules/" + Segment(c.args[0]), RuleText);
}

Result<Rendered> RunRoutesDelete(const CommandContext& c) {
  return DeleteResource(c, "/routing-rules/" + Segment(c.args[0]), "name", "routing rule");
}

Result<Rendered> RunClientsList(const CommandContext& c) {
  return List(c, "/clients", "clients", ClientsTable(), AddClient);
}

Result<Rendered> RunClientsShow(const CommandContext& c) {
  auto res = CallForObject(c, "GET", "/clients/" + Segment(c.args[0]));
  if (!res.ok()) return res.error();
  return Show(*res, ClientText(*res));
}

Result<Rendered> RunClientsPut(const CommandContext& c) {
  return Put(c, "/clients/" + Segment(c.args[0]), ClientText);
}

Result<Rendered> RunClientsDelete(const CommandContext& c) {
  return DeleteResource(c, "/clients/" + Segment(c.args[0]), "clientId", "client");
}

}  // namespace msgin5gctl
