// The command line: words (command, subcommand, arguments) and --options, which may stand
// anywhere ("--name value" or "--name=value"; "--" ends the options).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tools/msgin5gctl/result.h"

namespace msgin5gctl {

enum class OutputFormat { kTable, kJson };

struct Invocation {
  std::vector<std::string> words;              // command, subcommand, arguments
  std::map<std::string, std::string> options;  // "--url" -> "http://..." (flags: "")
  bool help = false;
  bool version = false;
  OutputFormat output = OutputFormat::kTable;
  int timeout_s = 30;

  bool has(const std::string& name) const { return options.count(name) != 0; }
  std::optional<std::string> get(const std::string& name) const;
};

// Options every command takes (connection, auth, output); the rest are per command.
bool IsGlobalOption(const std::string& name);
// Every option name, for help and completion.
const std::vector<std::string>& AllOptionNames();

Result<Invocation> ParseArgs(int argc, char** argv);

// A whole number in [min, max] or nothing.
std::optional<long long> ParseInteger(const std::string& s, long long min, long long max);

}  // namespace msgin5gctl
