// The commands: what each takes (words, options), its help, and the function that runs it.
// Help, argument checks and the bash completion script all follow this one table.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "tools/msgin5gctl/admin_api.h"
#include "tools/msgin5gctl/args.h"
#include "tools/msgin5gctl/result.h"

namespace msgin5gctl {

// What a command produced; main prints one of json/text to stdout.
struct Rendered {
  boost::json::value json;  // --output json
  std::string text;         // --output table
  std::string note;         // printed to stderr (e.g. "msgin5gd exited with 78")
  int exit_code = 0;        // the process exit code when not 0 (with note)
};

struct CommandContext {
  const Invocation& inv;
  std::vector<std::string> args;  // the words after the command's name (and subcommand)
  const AdminApi* api;            // null for offline commands
};

using Handler = Result<Rendered> (*)(const CommandContext&);

struct Command {
  std::string_view name;      // "groups"
  std::string_view sub;       // "create"; empty for one-word commands
  std::string_view synopsis;  // "ID MEMBER..."
  std::string_view summary;   // one line
  std::string_view details;   // more help, may be empty
  int min_args = 0;
  int max_args = 0;  // -1: no limit
  std::vector<std::string_view> options;  // its own options (the global ones always apply)
  bool offline = false;                   // needs no server
  Handler run = nullptr;
};

const std::vector<Command>& Commands();

bool IsCommandName(std::string_view name);
bool HasSubcommands(std::string_view name);  // groups, topics, ... (not status)
const Command* FindCommand(std::string_view name, std::string_view sub);

}  // namespace msgin5gctl
