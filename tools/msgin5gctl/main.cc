// msgin5gctl: the admin CLI of msgin5gd (like rabbitmqctl), over the admin HTTP API.
// Usage: help.cc (msgin5gctl --help); docs/msgin5gctl.md.
#include <cstdio>
#include <string>

#include "tools/msgin5gctl/admin_api.h"
#include "tools/msgin5gctl/args.h"
#include "tools/msgin5gctl/commands.h"
#include "tools/msgin5gctl/connection.h"
#include "tools/msgin5gctl/help.h"
#include "tools/msgin5gctl/output.h"

namespace msgin5gctl {
namespace {

int Fail(const Error& e, const std::string& hint = "") {
  std::fprintf(stderr, "error: %s\n", e.message.c_str());
  if (!hint.empty()) std::fprintf(stderr, "%s\n", hint.c_str());
  return static_cast<int>(e.code);
}

int Usage(const std::string& why, const std::string& hint = "run 'msgin5gctl --help'") {
  return Fail(UsageError(why), hint);
}

// Checks the words and options against the command; the command's arguments on success.
Result<std::vector<std::string>> CheckInvocation(const Command& c, const Invocation& inv,
                                                 std::size_t consumed) {
  for (const auto& [name, value] : inv.options) {
    bool own = false;
    for (auto o : c.options) own = own || o == name;
    if (!own && !IsGlobalOption(name)) {
      return UsageError(name + " does not apply to " + UsageLine(c));
    }
  }
  std::vector<std::string> args(inv.words.begin() + static_cast<long>(consumed), inv.words.end());
  const auto n = static_cast<int>(args.size());
  if (n < c.min_args || (c.max_args >= 0 && n > c.max_args)) {
    return UsageError(n < c.min_args ? "missing arguments" : "too many arguments");
  }
  return args;
}

int Main(int argc, char** argv) {
  auto parsed = ParseArgs(argc, argv);
  if (!parsed.ok()) return Fail(parsed.error(), "run 'msgin5gctl --help'");
  const Invocation& inv = *parsed;
  if (inv.version) {
    std::printf("msgin5gctl %s\n", MSGIN5G_VERSION);
    return 0;
  }
  if (inv.words.empty()) {
    std::fputs(ProgramHelp().c_str(), inv.help ? stdout : stderr);
    return inv.help ? 0 : static_cast<int>(Exit::kUsage);
  }
  const std::string& name = inv.words[0];
  if (!IsCommandName(name)) return Usage("unknown command \"" + name + "\"");
  const Command* cmd = nullptr;
  std::size_t consumed = 1;
  if (HasSubcommands(name)) {
    if (inv.words.size() < 2) {
      if (inv.help) return std::fputs(GroupHelp(name).c_str(), stdout), 0;
      return Usage(name + " needs a subcommand: " + Subcommands(name), "run 'msgin5gctl " + name + " --help'");
    }
    cmd = FindCommand(name, inv.words[1]);
    if (cmd == nullptr) {
      return Usage("unknown subcommand \"" + name + " " + inv.words[1] + "\" (" + Subcommands(name) + ")");
    }
    consumed = 2;
  } else {
    cmd = FindCommand(name, "");
  }
  if (inv.help) return std::fputs(CommandHelp(*cmd).c_str(), stdout), 0;
  auto args = CheckInvocation(*cmd, inv, consumed);
  if (!args.ok()) return Fail(args.error(), "usage: " + UsageLine(*cmd));

  std::optional<AdminApi> api;
  if (!cmd->offline) {
    auto endpoint = ResolveEndpoint(inv);
    if (!endpoint.ok()) return Fail(endpoint.error());
    auto token = ResolveToken(inv);
    if (!token.ok()) return Fail(token.error());
    api.emplace(std::move(*endpoint), std::move(*token), std::chrono::seconds(inv.timeout_s));
  }
  auto out = cmd->run(CommandContext{inv, std::move(*args), api ? &*api : nullptr});
  if (!out.ok()) {
    return Fail(out.error(), out.error().code == Exit::kUsage ? "usage: " + UsageLine(*cmd) : "");
  }
  const std::string text = inv.output == OutputFormat::kJson ? PrettyJson(out->json) : out->text;
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  if (!out->note.empty()) std::fprintf(stderr, "%s%s\n", out->exit_code != 0 ? "error: " : "", out->note.c_str());
  return out->exit_code;
}

}  // namespace
}  // namespace msgin5gctl

int main(int argc, char** argv) { return msgin5gctl::Main(argc, argv); }
