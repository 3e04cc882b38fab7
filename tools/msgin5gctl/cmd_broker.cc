// status, queues list|show, registrations, messages show: what the broker holds; drain.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "tools/msgin5gctl/address.h"
#include "tools/msgin5gctl/handlers.h"
#include "tools/msgin5gctl/progress.h"
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

Result<Rendered> RunQueuesList(const CommandContext& c) {
  std::string path = "/queues";
  if (auto limit = c.inv.get("--limit")) path += "?limit=" + Segment(*limit);
  auto res = CallForObject(c, "GET", path);
  if (!res.ok()) return res.error();
  Table t({"RECIPIENT", "COUNT", "BYTES"});
  if (const auto* arr = res->if_contains("queues"); arr != nullptr && arr->is_array()) {
    for (const auto& q : arr->get_array()) {
      t.Add({CellOf(q, "addrType") + ":" + CellOf(q, "addr"), CellOf(q, "count"), CellOf(q, "bytes")});
    }
  }
  return Show(*res, t.Render());
}

Result<Rendered> RunRegistrations(const CommandContext& c) {
  std::string query;
  if (auto limit = c.inv.get("--limit")) query += "&limit=" + Segment(*limit);
  if (auto after = c.inv.get("--after")) query += "&after=" + Segment(*after);
  if (!query.empty()) query[0] = '?';
  auto res = CallForObject(c, "GET", "/registrations" + query);
  if (!res.ok()) return res.error();
  Table as({"AS_SVC_ID", "REGISTRATION", "APP_ID", "TARGET_URI", "OWNER"});
  if (const auto* arr = res->if_contains("as"); arr != nullptr && arr->is_array()) {
    for (const auto& a : arr->get_array()) {
      as.Add({CellOf(a, "asSvcId"), CellOf(a, "registrationId"), CellOf(a, "appId"),
              CellOf(a, "targetUri"), CellOf(a, "owner")});
    }
  }
  Table ue({"UE", "ENDPOINT", "REGISTERED", "ASLEEP"});
  std::string last;  // the last UE listed: where --after starts the next page
  if (const auto* arr = res->if_contains("ue"); arr != nullptr && arr->is_array()) {
    for (const auto& u : arr->get_array()) {
      ue.Add({CellOf(u, "ueId"), CellOf(u, "endpoint"), CellOf(u, "registeredAt"), CellOf(u, "asleep")});
      last = CellOf(u, "ueId");
    }
  }
  const json::value all(*res);
  std::string text = as.Render() + "\n" + ue.Render() + CellOf(all, "ueTotal") +
                     " UE registrations, " + CellOf(all, "ueAsleep") + " asleep";
  if (CellOf(all, "ueMore") == "true") text += "; more: --after " + last;
  text += "\n";
  return Show(*res, text);
}

namespace {

Result<Rendered> Removal(const CommandContext& c, const std::string& path, const std::string& what) {
  // Answered once every removal is stored: a queue of millions takes a while.
  auto res = WaitShowingElapsed("removing", [&] { return CallForObject(c, "DELETE", path); });
  if (!res.ok()) return res.error();
  const json::value v(*res);
  std::string text = what + ": " + CellOf(v, "removed") + " removed";
  if (CellOf(v, "inFlight") != "0") text += ", " + CellOf(v, "inFlight") + " being sent (they finish on their own)";
  return Show(*res, text + "\n");
}

}  // namespace

Result<Rendered> RunQueuesPurge(const CommandContext& c) {
  auto a = ParseTypedAddress(c.args[0], c.args[1]);
  if (!a.ok()) return a.error();
  return Removal(c, "/queues" + AddressPath(*a), c.args[0] + ":" + c.args[1]);
}

Result<Rendered> RunMessagesDelete(const CommandContext& c) {
  auto origin = ParseTypedAddress(c.args[0], c.args[1]);
  if (!origin.ok()) return origin.error();
  return Removal(c, "/messages" + AddressPath(*origin) + "/" + Segment(c.args[2]),
                 "message " + c.args[2]);
}

Result<Rendered> RunMessagesResend(const CommandContext& c) {
  auto origin = ParseTypedAddress(c.args[0], c.args[1]);
  if (!origin.ok()) return origin.error();
  auto res = CallForObject(
      c, "POST", "/messages" + AddressPath(*origin) + "/" + Segment(c.args[2]) + "/resend");
  if (!res.ok()) return res.error();
  const json::value v(*res);
  std::string text = "message " + c.args[2] + ": " + CellOf(v, "resent") + " resent now";
  const std::pair<const char*, const char*> waits[] = {
      {"inFlight", " being sent already"},
      {"noRoute", " without a route (they go when the recipient has one)"},
      {"breakerOpen", " behind an open circuit breaker (they go when it closes)"}};
  for (const auto& [key, why] : waits) {
    if (CellOf(v, key) != "0") text += ", " + CellOf(v, key) + why;
  }
  return Show(*res, text + "\n");
}

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

namespace {

std::vector<std::string> DestinationCells(const json::value& d) {
  return {CellOf(d, "breaker"), CellOf(d, "failures"), CellOf(d, "ready"), CellOf(d, "inFlight"),
          CellOf(d, "blockedUntil")};
}

}  // namespace

Result<Rendered> RunGateways(const CommandContext& c) {
  auto res = CallForObject(c, "GET", "/gateways");
  if (!res.ok()) return res.error();
  Table t({"GATEWAY", "TYPE", "API_ROOT", "BREAKER", "FAILURES", "READY", "IN_FLIGHT", "BLOCKED_UNTIL"});
  if (const auto* arr = res->if_contains("gateways"); arr != nullptr && arr->is_array()) {
    for (const auto& g : arr->get_array()) {
      std::vector<std::string> row = {CellOf(g, "name"), CellOf(g, "type"), CellOf(g, "apiRoot")};
      const auto* d = g.is_object() ? g.get_object().if_contains("destination") : nullptr;
      std::vector<std::string> state = d != nullptr && d->is_object()
                                           ? DestinationCells(*d)
                                           : std::vector<std::string>{"(unused)", "-", "-", "-", "-"};
      row.insert(row.end(), state.begin(), state.end());
      t.Add(row);
    }
  }
  return Show(*res, t.Render());
}

Result<Rendered> RunDestinations(const CommandContext& c) {
  std::string query = c.inv.has("--ues") ? "?ues=true" : "?ues=false";
  if (auto limit = c.inv.get("--limit")) query += "&limit=" + Segment(*limit);
  auto res = CallForObject(c, "GET", "/destinations" + query);
  if (!res.ok()) return res.error();
  Table t({"CHANNEL", "DESTINATION", "BREAKER", "FAILURES", "READY", "IN_FLIGHT", "BLOCKED_UNTIL"});
  if (const auto* arr = res->if_contains("destinations"); arr != nullptr && arr->is_array()) {
    for (const auto& d : arr->get_array()) {
      std::vector<std::string> row = {CellOf(d, "channel"), CellOf(d, "base")};
      auto state = DestinationCells(d);
      row.insert(row.end(), state.begin(), state.end());
      t.Add(row);
    }
  }
  return Show(*res, t.Render());
}

// POST /drain, then one progress line a second (stderr) until msgin5gd has stopped (its socket
// no longer answers); the last state it reported is the output.
Result<Rendered> RunDrain(const CommandContext& c) {
  json::object body;
  int deadline = 60;
  if (auto d = c.inv.get("--deadline")) {
    auto v = ParseInteger(*d, 1, 3600);
    if (!v) return UsageError("--deadline must be a whole number of seconds from 1 to 3600");
    deadline = static_cast<int>(*v);
  }
  body["deadlineS"] = deadline;
  auto started = CallForObject(c, "POST", "/drain", json::serialize(body));
  if (!started.ok()) return started.error();
  json::object last = *started;
  const json::value first(*started);
  auto left = [](const json::value& v) {
    const auto* o = v.if_object();
    std::uint64_t n = 0;
    for (const char* key : {"deliverable", "inFlight"}) {
      const auto* x = o != nullptr ? o->if_contains(key) : nullptr;
      if (x != nullptr && x->is_int64() && x->as_int64() > 0) n += static_cast<std::uint64_t>(x->as_int64());
    }
    return n;
  };
  // The bar: what had a route when the drain began, delivered since (new messages are refused).
  const std::uint64_t total = left(first);
  Progress progress("draining");
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(deadline + 60);
  while (std::chrono::steady_clock::now() < give_up) {
    const json::value now(last);
    const std::uint64_t remaining = std::min(left(now), total);
    progress.Update(total - remaining, total,
                    CellOf(now, "deliverable") + " deliverable, " + CellOf(now, "inFlight") +
                        " in flight, " + CellOf(now, "pending") + " stored");
    std::this_thread::sleep_for(std::chrono::seconds(1));
    auto state = CallForObject(c, "GET", "/drain");
    if (!state.ok()) {
      if (state.error().code != Exit::kConnect) return state.error();
      progress.Done();
      last["stopped"] = true;  // the daemon closed its admin API: the drain is over
      return Show(last, FieldTable(last).Render());
    }
    last = *state;
  }
  progress.Done();
  return Error{Exit::kRefused, "msgin5gd still answers " + std::to_string(deadline + 60) +
                                   " s after the drain began"};
}

}  // namespace msgin5gctl
