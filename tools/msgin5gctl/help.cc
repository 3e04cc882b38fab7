#include "tools/msgin5gctl/help.h"

namespace msgin5gctl {

namespace {

constexpr const char* kIntro =
    "msgin5gctl: the command-line client of msgin5gd's admin API (/admin/v1).\n\n"
    "Usage: msgin5gctl [OPTIONS] COMMAND [SUBCOMMAND] [ARGS]   (options may stand anywhere)\n";

constexpr const char* kGlobalOptions = R"(
Connection (first that applies): --url, --socket, $MSGIN5G_ADMIN_URL, $MSGIN5G_ADMIN_SOCKET,
/run/msgin5g/admin.sock if it exists, ./msgin5g-admin.sock.
  --socket PATH      the admin API's Unix socket
  --url URL          http://HOST:PORT or https://HOST:PORT (the admin.listen address)
  --cacert FILE      https: CA certificate(s) to verify the server with (default: the system's)
  --cert FILE        https: client certificate for mutual TLS (with --key)
  --key FILE         https: private key of --cert
  --token TOKEN      admin bearer token (else --token-file, else $MSGIN5G_ADMIN_TOKEN)
  --token-file FILE  read the token from the first line of FILE
  --timeout SECONDS  for the whole request, connecting included (default 30)
  --output FORMAT    table (default: aligned columns with a header row) or json (the server's
                     JSON, or the command's result, indented by two spaces)
  --help, -h         this help; COMMAND --help: the command's
  --version          print the version

Exit codes: 0 ok; 1 refused by the server (4xx other than 401/403/404) or a server failure
(5xx); 2 usage error; 3 cannot connect, timeout or TLS failure; 4 not authenticated or not
allowed (401/403); 5 not found (404).
)";

// "  WORDS   SUMMARY": the summary in a column of its own, on the next line after long words.
std::string Entry(const std::string& words, std::string_view summary) {
  constexpr std::size_t kColumn = 40;
  std::string line = "  " + words;
  line += line.size() + 2 <= kColumn ? std::string(kColumn - line.size(), ' ')
                                     : "\n" + std::string(kColumn, ' ');
  return line + std::string(summary) + "\n";
}

std::string Words(const Command& c) {
  std::string s(c.name);
  if (!c.sub.empty()) s += " " + std::string(c.sub);
  if (!c.synopsis.empty()) s += " " + std::string(c.synopsis);
  for (auto opt : c.options) {
    std::string o(opt);
    if (o == "--json") o += " FILE";
    else if (o == "--expiry-ms") o += " N";
    else if (o == "--role") o += " ROLE";
    else if (o == "--config") o += " FILE";
    else if (o == "--data-dir") o += " DIR";
    else if (o == "--daemon") o += " PATH";
    else if (o == "--limit") o += " N";
    else if (o == "--after") o += " UE_ID";
    else if (o == "--deadline") o += " S";
    s += (o == "--json FILE" || o == "--role ROLE") ? " " + o : " [" + o + "]";
  }
  return s;
}

}  // namespace

std::string UsageLine(const Command& c) { return "msgin5gctl " + Words(c); }

std::string Subcommands(std::string_view name) {
  std::string out;
  for (const auto& c : Commands()) {
    if (c.name != name) continue;
    if (!out.empty()) out += ", ";
    out += c.sub;
  }
  return out;
}

std::string ProgramHelp() {
  std::string out = kIntro;
  out += "\nCommands:\n";
  for (const auto& c : Commands()) {
    out += Entry(Words(c), c.summary);
  }
  out += "  MEMBER is TYPE:ADDR with TYPE UE or AS, e.g. UE:ue-1, AS:as-1.\n";
  out += kGlobalOptions;
  out += "\nSee docs/msgin5gctl.md.\n";
  return out;
}

std::string GroupHelp(std::string_view name) {
  std::string out = "msgin5gctl " + std::string(name) + ": " + Subcommands(name) + "\n\n";
  for (const auto& c : Commands()) {
    if (c.name == name) out += CommandHelp(c) + "\n";
  }
  return out;
}

std::string CommandHelp(const Command& c) {
  std::string out = "Usage: " + UsageLine(c) + "\n  " + std::string(c.summary) + "\n";
  if (!c.details.empty()) out += "  " + std::string(c.details) + "\n";
  return out;
}

}  // namespace msgin5gctl
