#include "tools/msgin5gctl/commands.h"

#include "tools/msgin5gctl/handlers.h"

namespace msgin5gctl {

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"status", "", "", "queued messages, registrations, groups, storage health",
       "GET /admin/v1/stats: queued entries by priority, queued bytes, registrations, groups, "
       "topic subscriptions, routing rules, open segment sets, storage queue and health.",
       0, 0, {}, false, RunStatus},
      {"queues", "list", "", "the largest queues, most entries first",
       "--limit N  how many (1..10000, default 100). The count of recipients with anything "
       "queued is in the JSON (recipients).", 0, 0, {"--limit"}, false, RunQueuesList},
      {"queues", "show", "ADDRTYPE ADDR", "a recipient's queue: count, bytes, oldest, by priority",
       "ADDRTYPE is UE, AS, GROUP, BC or TOPIC.", 2, 2, {}, false, RunQueuesShow},
      {"queues", "purge", "ADDRTYPE ADDR", "remove everything waiting in a recipient's queue",
       "Each entry is finished as failed (cause \"purged by an operator\"): an originator that asked "
       "for reports gets a failure report. Entries being sent at that moment finish on their own.",
       2, 2, {}, false, RunQueuesPurge},
      {"messages", "show", "ORIGIN_TYPE ORIGIN MSGID",
       "a message by sender and msgId, one row per recipient",
       "ORIGIN_TYPE is UE or AS (the sender). 404 (exit 5) for an unknown message or one older "
       "than the dedup window.", 3, 3, {}, false, RunMessagesShow},
      {"messages", "delete", "ORIGIN_TYPE ORIGIN MSGID", "remove a message for every recipient still waiting for it",
       "As queues purge, for one message (cause \"deleted by an operator\"). 404 (exit 5) for an "
       "unknown message.", 3, 3, {}, false, RunMessagesDelete},
      {"messages", "resend", "ORIGIN_TYPE ORIGIN MSGID",
       "try a message's waiting recipients now instead of after their backoff",
       "Recipients waiting for a retry are sent to at once (their attempt count stays). Those "
       "without a route (a sleeping UE) or behind an open circuit breaker are counted and keep "
       "waiting. 409 (exit 1) when the message is no longer stored, 404 (exit 5) when unknown.",
       3, 3, {}, false, RunMessagesResend},
      {"registrations", "", "", "AS registrations, and UE registrations in id order",
       "--limit N  UE registrations to list (1..10000, default 100); --after UE_ID  the next page "
       "(ueMore in the JSON says there is one). ASLEEP: the UE stopped answering; its messages "
       "wait for its next contact.", 0, 0, {"--limit", "--after"}, false, RunRegistrations},
      {"gateways", "", "", "the configured gateways and their circuit breakers",
       "BREAKER: closed (sending), open (nothing sent until BLOCKED_UNTIL after repeated "
       "failures), half-open (one probe at a time); (unused): nothing sent to it since the start. "
       "READY counts entries waiting for a send slot (approximate).", 0, 0, {}, false, RunGateways},
      {"destinations", "", "", "every AS and gateway deliveries go to, with its circuit breaker",
       "--ues  UE endpoints too (one per registered UE that was sent to: can be many); --limit N "
       "(1..10000, default 100).", 0, 0, {"--ues", "--limit"}, false, RunDestinations},
      {"drain", "", "", "stop msgin5gd after delivering what it can (a planned stop)",
       "POST /admin/v1/drain: new messages are refused (503) at once; what has a route is "
       "delivered until nothing is left or --deadline S (1..3600, default 60) passes; then "
       "msgin5gd stops, keeping the rest stored. Shows progress on stderr until the daemon has "
       "stopped: a bar on a terminal, a line a second otherwise.", 0, 0, {"--deadline"}, false, RunDrain},
      {"groups", "list", "", "every group with its members", "", 0, 0, {}, false, RunGroupsList},
      {"groups", "show", "ID", "one group's members", "", 1, 1, {}, false, RunGroupsShow},
      {"groups", "create", "ID [MEMBER...]", "create a group (or replace its members)",
       "MEMBER: UE:ue-1 or AS:as-1. An existing group ID gets exactly these members.", 1, -1, {}, false, RunGroupsCreate},
      {"groups", "delete", "ID", "delete a group", "", 1, 1, {}, false, RunGroupsDelete},
      {"groups", "add-member", "ID MEMBER", "add a member (idempotent)", "", 2, 2, {}, false,
       RunGroupsAddMember},
      {"groups", "remove-member", "ID MEMBER", "remove a member", "", 2, 2, {}, false,
       RunGroupsRemoveMember},
      {"topics", "list", "TOPIC", "a topic's subscribers with their expiry", "", 1, 1, {}, false,
       RunTopicsList},
      {"topics", "subscribe", "TOPIC MEMBER", "subscribe a UE or AS to a topic",
       "--expiry-ms N  the subscription ends N milliseconds from now (default: never)", 2, 2,
       {"--expiry-ms"}, false, RunTopicsSubscribe},
      {"topics", "unsubscribe", "TOPIC MEMBER", "end a subscription", "", 2, 2, {}, false,
       RunTopicsUnsubscribe},
      {"routes", "list", "", "routing rules in evaluation order", "", 0, 0, {}, false, RunRoutesList},
      {"routes", "put", "NAME", "create or replace a routing rule",
       "--json FILE  the rule, e.g. {\"pattern\":\"ue-1*\",\"gateway\":\"l3g-1\",\"order\":10}; "
       "- reads stdin", 1, 1, {"--json"}, false, RunRoutesPut},
      {"routes", "delete", "NAME", "delete a routing rule", "", 1, 1, {}, false, RunRoutesDelete},
      {"clients", "list", "", "every API client in force (file and admin-set)", "", 0, 0, {},
       false, RunClientsList},
      {"clients", "show", "ID", "one API client", "", 1, 1, {}, false, RunClientsShow},
      {"clients", "put", "ID", "create or replace an admin-set API client",
       "--json FILE  the policy: {\"secret\"|\"secretHash\",\"apis\",\"destinations\",\"origins\","
       "\"rateLimit\",\"rateBurst\",\"tlsIdentity\",\"pskIdentity\",\"pskKey\"} (docs/security.md); "
       "- reads stdin", 1, 1, {"--json"}, false, RunClientsPut},
      {"clients", "delete", "ID", "delete an admin-set API client",
       "Clients of the configuration file change with the file and SIGHUP (404 here).", 1, 1, {}, false, RunClientsDelete},
      {"backup", "create", "[NAME]", "an online backup of msgin5gd's store, taken while it serves",
       "Waits until the backup is complete (raise --timeout for a large store), showing the "
       "time taken on stderr after a second. NAME: 1 to 128 "
       "of [A-Za-z0-9._-]; default msgin5g-YYYYMMDDTHHMMSSZ. It goes under msgin5gd's "
       "storage.backup_dir. Exit 1 with 409 BACKUP_EXISTS or 429 BACKUP_IN_PROGRESS.",
       0, 1, {}, false, RunBackupCreate},
      {"backup", "list", "", "the complete backups, oldest first", "", 0, 0, {}, false,
       RunBackupList},
      {"restore", "", "NAME|DIR", "put a backup into msgin5gd's empty storage.path (offline)",
       "Runs msgin5gd --restore (--daemon PATH or MSGIN5GD names it; default /usr/sbin/msgin5gd) with "
       "--config FILE (default /etc/msgin5g/msgin5gd.toml when present); --data-dir DIR restores "
       "into DIR instead of storage.path. Run it as the daemon's user with msgin5gd stopped. "
       "Progress on stderr: a bar on a terminal, msgin5gd's lines otherwise. Exit: msgin5gd's (0 "
       "restored, 65 damaged or another data format, 66 no backup there, 73 target not empty, 74 "
       "I/O error).",
       1, 1, {"--config", "--data-dir", "--daemon"}, true, RunRestore},
      {"token", "create", "NAME", "a new admin token and its tokens-file line",
       "--role read-only|read-write  required. NAME: 1 to 64 of [A-Za-z0-9._-].", 1, 1,
       {"--role"}, true, RunTokenCreate},
  };
  return commands;
}

bool IsCommandName(std::string_view name) {
  for (const auto& c : Commands()) {
    if (c.name == name) return true;
  }
  return false;
}

bool HasSubcommands(std::string_view name) {
  for (const auto& c : Commands()) {
    if (c.name == name && !c.sub.empty()) return true;
  }
  return false;
}

const Command* FindCommand(std::string_view name, std::string_view sub) {
  for (const auto& c : Commands()) {
    if (c.name == name && c.sub == sub) return &c;
  }
  return nullptr;
}

}  // namespace msgin5gctl
