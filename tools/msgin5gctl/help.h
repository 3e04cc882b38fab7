// --help texts, made from the command table.
#pragma once

#include <string>
#include <string_view>

#include "tools/msgin5gctl/commands.h"

namespace msgin5gctl {

std::string ProgramHelp();
std::string GroupHelp(std::string_view name);  // "msgin5gctl groups --help"
std::string CommandHelp(const Command& c);     // "msgin5gctl groups create --help"
std::string UsageLine(const Command& c);       // "msgin5gctl groups create ID [MEMBER...]"
std::string Subcommands(std::string_view name);  // "list, show, create, ..."

}  // namespace msgin5gctl
