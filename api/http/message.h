// HTTP request/response values shared by the HTTP/2 and HTTP/1.1 sessions, the router and the client.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace msgin5g::api::http {

struct Header {
  std::string name;   // lower case (HTTP/2 requires it; HTTP/1.1 names are folded on receipt)
  std::string value;
};

using Headers = std::vector<Header>;

// Case-insensitive lookup; returns an empty view when absent.
std::string_view FindHeader(const Headers& headers, std::string_view name);
bool HasHeader(const Headers& headers, std::string_view name);

struct Request {
  std::string method;
  std::string target;     // path and query as received (":path")
  std::string authority;  // ":authority" or Host
  std::string scheme;     // "http" or "https"
  Headers headers;
  std::string body;
  bool http2 = true;
  // Whether the client declared a body length (content-length or chunked / DATA frames). HTTP/1.1
  // POSTs without either get 411.
  bool length_known = true;

  // The connection's peer, filled by the session. peer_identity is the verified TLS client
  // identity: the TLS-PSK identity when peer_psk, else the certificate's first SAN URI, SAN DNS or
  // subject CN; empty without TLS or without a verified client certificate.
  std::string peer_address;
  std::string peer_identity;
  bool peer_psk = false;
  // A TLS-PSK identity the client offered whose key could not be had because the CAPIF core
  // function could not be asked (ServerOptions::psk_prefetch): the handshake went on without
  // it, so the client has no verified identity, and a 503 tells it to come back.
  std::string peer_psk_unresolved;
  // On a Unix-socket listener: the connecting process's user id (SO_PEERCRED); -1 on TCP.
  std::int64_t peer_uid = -1;
  // The authenticated client (set by the security guard), empty when anonymous.
  std::string client_id;

  // Filled by the router.
  std::string path;  // target without query, apiRoot stripped
  std::vector<std::pair<std::string, std::string>> path_params;
  std::string_view operation;  // route name, e.g. "deliver-as-message"; for metrics and logs

  std::string_view header(std::string_view name) const { return FindHeader(headers, name); }
  std::string_view PathParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;  // do not set content-length; the session does
  std::string body;
  // The connection should not serve further requests: HTTP/1.1 answers "Connection: close",
  // HTTP/2 sends GOAWAY after this stream (what is in flight still completes). For an answer
  // that holds for the connection, not the request (a TLS identity that could not be resolved).
  bool close_connection = false;

  Response() = default;
  Response(int s, std::string content_type, std::string b) : status(s), body(std::move(b)) {
    if (!content_type.empty()) headers.push_back({"content-type", std::move(content_type)});
  }
  static Response Json(int status, std::string body) {
    return Response(status, "application/json", std::move(body));
  }
  static Response Empty(int status) { return Response(status, "", ""); }
};

std::string_view ReasonPhrase(int status);

}  // namespace msgin5g::api::http
