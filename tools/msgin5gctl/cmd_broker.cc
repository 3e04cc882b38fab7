// status, queues show, messages show: what the broker holds.
#include "tools/msgin5gctl/address.h"
#include "tools/msgin5gctl/handlers.h"
#include "tools/msgin5gctl/output.h"

namespace msgin5gctl {

namespace json = boost::json;

namespace {

// GET path and show the object as FIELD/VALUE rows.
Result<Rendered> GetFields(const CommandContext& c, const std::string& path) {
  auto res = CallForObject(c, "GET", path);
  if (!res.ok()) return res.error();
  return Show(*res, FieldTable(*res).Render());
}

}  // namespace

Result<Rendered> RunStatus(const CommandContext& c) { return GetFields(c, "/stats"); }

Result<Rendered> RunQueuesShow(const CommandContext& c) {
  auto a = ParseTypedAddress(c.args[0], c.args[1]);
  if (!a.ok()) return a.error();
  return GetFields(c, "/queues" + AddressPath(*a));
}

// The message's fields, then one row per recipient: those still queued (state, priority) and
// those it did not reach (state, cause, when).
Result<Rendered> RunMessagesShow(const CommandContext& c) {
  auto origin = ParseTypedAddress(c.args[0], c.args[1]);
  if (!origin.ok()) return origin.error();
  const std::string path = "/messages" + AddressPath(*origin) + "/" + Segment(c.args[2]);
  auto res = CallForObject(c, "GET", path);
  if (!res.ok()) return res.error();
  json::object fields = *res;
  fields.erase("recipients");
  fields.erase("undelivered");
  Table recipients({"RECIPIENT", "STATE", "PRIORITY", "CAUSE", "FINISHED"});
  for (const char* list : {"recipients", "undelivered"}) {
    const auto* arr = res->if_contains(list);
    if (arr == nullptr || !arr->is_array()) continue;
    for (const auto& r : arr->get_array()) {
      std::string who = r.is_object() ? CellOf(r, "addrType") + ":" + CellOf(r, "addr") : Cell(r);
      recipients.Add({who, CellOf(r, "state"), CellOf(r, "priority"), CellOf(r, "cause"),
                      CellOf(r, "finished")});
    }
  }
  return Show(*res, FieldTable(fields).Render() + "\n" + recipients.Render());
}

}  // namespace msgin5gctl
