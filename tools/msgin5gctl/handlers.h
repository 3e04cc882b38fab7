// The functions behind the commands (commands.cc lists them), and helpers they share.
#pragma once

#include <string>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "tools/msgin5gctl/commands.h"

namespace msgin5gctl {

// cmd_common.cc: a Rendered with both forms; a DELETE whose 204 becomes {KEY: ID,
// "deleted": true} and "WHAT ID deleted"; the body of --json FILE (or - for stdin).
Rendered Show(boost::json::value json, std::string text);
Result<Rendered> DeleteResource(const CommandContext& c, const std::string& path, const char* key,
                                const std::string& what);
Result<std::string> JsonInput(const CommandContext& c);
// A call whose 2xx answer must be a JSON object.
Result<boost::json::object> CallForObject(const CommandContext& c, const std::string& method,
                                          const std::string& path, const std::string& body = "");

// cmd_broker.cc
Result<Rendered> RunStatus(const CommandContext& c);
Result<Rendered> RunQueuesList(const CommandContext& c);
Result<Rendered> RunQueuesShow(const CommandContext& c);
Result<Rendered> RunQueuesPurge(const CommandContext& c);
Result<Rendered> RunMessagesDelete(const CommandContext& c);
Result<Rendered> RunMessagesResend(const CommandContext& c);
Result<Rendered> RunRegistrations(const CommandContext& c);
Result<Rendered> RunDrain(const CommandContext& c);
Result<Rendered> RunGateways(const CommandContext& c);
Result<Rendered> RunDestinations(const CommandContext& c);
Result<Rendered> RunMessagesShow(const CommandContext& c);
// cmd_groups.cc
Result<Rendered> RunGroupsList(const CommandContext& c);
Result<Rendered> RunGroupsShow(const CommandContext& c);
Result<Rendered> RunGroupsCreate(const CommandContext& c);
Result<Rendered> RunGroupsDelete(const CommandContext& c);
Result<Rendered> RunGroupsAddMember(const CommandContext& c);
Result<Rendered> RunGroupsRemoveMember(const CommandContext& c);
// cmd_topics.cc
Result<Rendered> RunTopicsList(const CommandContext& c);
Result<Rendered> RunTopicsSubscribe(const CommandContext& c);
Result<Rendered> RunTopicsUnsubscribe(const CommandContext& c);
// cmd_config.cc
Result<Rendered> RunRoutesList(const CommandContext& c);
Result<Rendered> RunRoutesPut(const CommandContext& c);
Result<Rendered> RunRoutesDelete(const CommandContext& c);
Result<Rendered> RunClientsList(const CommandContext& c);
Result<Rendered> RunClientsShow(const CommandContext& c);
Result<Rendered> RunClientsPut(const CommandContext& c);
Result<Rendered> RunClientsDelete(const CommandContext& c);
// cmd_backup.cc
Result<Rendered> RunBackupCreate(const CommandContext& c);
Result<Rendered> RunBackupList(const CommandContext& c);
Result<Rendered> RunRestore(const CommandContext& c);
// cmd_token.cc
Result<Rendered> RunTokenCreate(const CommandContext& c);

}  // namespace msgin5gctl
