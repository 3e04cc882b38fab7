// Unit tests for daemon/config.h: defaults, the TOML file, --set overrides and their errors.

#include "daemon/config.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace msgin5g::daemon {
namespace {

namespace fs = std::filesystem;
using testing::HasSubstr;

void ExpectSameConfig(const Config& a, const Config& e) {
  EXPECT_EQ(a.api_listen, e.api_listen);
  EXPECT_EQ(a.api_root, e.api_root);
  EXPECT_EQ(a.api_threads, e.api_threads);
  EXPECT_EQ(a.api_max_body_bytes, e.api_max_body_bytes);
  EXPECT_EQ(a.api_max_header_list_bytes, e.api_max_header_list_bytes);
  EXPECT_EQ(a.api_max_concurrent_streams, e.api_max_concurrent_streams);
  EXPECT_EQ(a.api_max_connections, e.api_max_connections);
  EXPECT_EQ(a.api_idle_timeout_ms, e.api_idle_timeout_ms);
  EXPECT_EQ(a.api_read_timeout_ms, e.api_read_timeout_ms);
  EXPECT_EQ(a.api_retry_after_seconds, e.api_retry_after_seconds);
  EXPECT_EQ(a.api_http1, e.api_http1);
  EXPECT_EQ(a.tls_enabled, e.tls_enabled);
  EXPECT_EQ(a.tls_cert_file, e.tls_cert_file);
  EXPECT_EQ(a.tls_key_file, e.tls_key_file);
  EXPECT_EQ(a.tls_ca_file, e.tls_ca_file);
  EXPECT_EQ(a.tls_require_client_cert, e.tls_require_client_cert);
  EXPECT_EQ(a.tls_handshake_timeout_ms, e.tls_handshake_timeout_ms);
  EXPECT_EQ(a.metrics_listen, e.metrics_listen);
  EXPECT_EQ(a.storage_max_batch_ops, e.storage_max_batch_ops);
  EXPECT_EQ(a.broker_unknown_recipient, e.broker_unknown_recipient);
  EXPECT_EQ(a.shutdown_drain_timeout_ms, e.shutdown_drain_timeout_ms);
  EXPECT_EQ(a.log_level, e.log_level);
}

class ConfigTest : public testing::Test {
 protected:
  void SetUp() override {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(testing::TempDir()) /
           (std::string("config_test.") + info->name() + "." + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string Write(const std::string& text, const std::string& name = "msgin5gd.toml") {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }

  // LoadConfig that must fail; returns the InvalidArgument message.
  std::string Error(const std::string& file, const std::vector<std::string>& overrides = {}) {
    Result<Config> r = LoadConfig(file, overrides);
    EXPECT_FALSE(r.ok());
    if (r.ok()) return "";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    return r.status().message();
  }

  Config Load(const std::string& file, const std::vector<std::string>& overrides = {}) {
    Result<Config> r = LoadConfig(file, overrides);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r.value() : Config{};
  }

  fs::path dir_;
};

TEST_F(ConfigTest, DefaultsLoadWithoutAFile) {
  Config c = Load("");
  EXPECT_EQ(c.api_listen, "127.0.0.1:8080");
  EXPECT_EQ(c.api_root, "");
  EXPECT_EQ(c.api_threads, 0);
  EXPECT_EQ(c.api_max_body_bytes, 1048576);
  EXPECT_EQ(c.api_max_header_list_bytes, 65536);
  EXPECT_EQ(c.api_max_concurrent_streams, 256);
  EXPECT_EQ(c.api_max_connections, 10000);
  EXPECT_EQ(c.api_idle_timeout_ms, 120000);
  EXPECT_EQ(c.api_read_timeout_ms, 30000);
  EXPECT_EQ(c.api_retry_after_seconds, 1);
  EXPECT_TRUE(c.api_http1);
  EXPECT_FALSE(c.tls_enabled);
  EXPECT_EQ(c.tls_cert_file, "");
  EXPECT_EQ(c.tls_key_file, "");
  EXPECT_EQ(c.tls_ca_file, "");
  EXPECT_FALSE(c.tls_require_client_cert);
  EXPECT_EQ(c.tls_handshake_timeout_ms, 10000);
  EXPECT_EQ(c.metrics_listen, "127.0.0.1:9464");
  EXPECT_EQ(c.storage_max_batch_ops, 1024);
  EXPECT_EQ(c.storage_path, "./msgin5g-data");
  EXPECT_TRUE(c.storage_sync);
  EXPECT_EQ(c.admin_listen, "");  // TCP admin off: the Unix socket serves it
  EXPECT_EQ(c.admin_socket, "./msgin5g-admin.sock");
  EXPECT_EQ(c.admin_tokens_file, "");
  EXPECT_EQ(c.broker_unknown_recipient, "reject");
  EXPECT_EQ(c.shutdown_drain_timeout_ms, 10000);
  EXPECT_EQ(c.log_level, "info");
}

TEST_F(ConfigTest, DefaultConfigTextParsesAndEqualsTheDefaults) {
  Config from_file = Load(Write(DefaultConfigText()));
  ExpectSameConfig(from_file, Load(""));
}

TEST_F(ConfigTest, DefaultConfigTextMentionsEveryKeyOfConfigHelp) {
  std::string text = DefaultConfigText();
  for (const char* key : {"[api]", "[tls]", "[metrics]", "[broker]", "[shutdown]",
                          "[log]", "max_body_bytes = 1048576", "unknown_recipient = \"reject\"",
                          "level = \"info\"", "http1 = true"}) {
    EXPECT_THAT(text, HasSubstr(key));
  }
  std::string help = ConfigHelp();
  for (const char* key : {"api.listen", "tls.handshake_timeout_ms",
                          "storage.max_batch_ops", "shutdown.drain_timeout_ms", "log.level"}) {
    EXPECT_THAT(help, HasSubstr(key));
  }
}

TEST_F(ConfigTest, EmptyFileKeepsTheDefaults) {
  ExpectSameConfig(Load(Write("")), Load(""));
}

TEST_F(ConfigTest, FileOverridesDefaults) {
  Config c = Load(Write(R"(
[api]
listen = "0.0.0.0:9090"
api_root = "/msgin5g"
threads = 4
http1 = false

[storage]
max_batch_ops = 50
path = "/var/lib/msgin5gd"

[broker]
unknown_recipient = "store"

[log]
level = "debug"
)"));
  EXPECT_EQ(c.api_listen, "0.0.0.0:9090");
  EXPECT_EQ(c.api_root, "/msgin5g");
  EXPECT_EQ(c.api_threads, 4);
  EXPECT_FALSE(c.api_http1);
  EXPECT_EQ(c.storage_max_batch_ops, 50);
  EXPECT_EQ(c.storage_path, "/var/lib/msgin5gd");
  EXPECT_EQ(c.broker_unknown_recipient, "store");
  EXPECT_EQ(c.log_level, "debug");
  // Untouched keys keep their defaults.
  EXPECT_EQ(c.api_max_body_bytes, 1048576);
  EXPECT_EQ(c.metrics_listen, "127.0.0.1:9464");
}

TEST_F(ConfigTest, GatewaysComeFromTablesAndFromSet) {
  Config c = Load(Write(R"(
[broker]
broadcast_gateway = "cbc"

[gateways.l3g-1]
type = "l3g"
api_root = "https://l3g.example.net"
max_segment_bytes = 140

[gateways.cbc]
type = "bg"
api_root = "http://cbc.example.net:8080"

[gateways.bc-north]
type = "bg"
api_root = "http://bc-north.example.net"
areas = ["north-*", "area-7"]
)"),
                  {"gateways.n3g-1.type=n3g", "gateways.n3g-1.api_root=http://127.0.0.1:9",
                   "gateways.l3g-1.max_segment_bytes=2048", "gateways.cbc.areas=south-1,south-2"});
  ASSERT_EQ(c.gateways.size(), 4u);
  auto gw = [&](const std::string& name) -> const Config::Gateway& {
    for (const auto& g : c.gateways) {
      if (g.name == name) return g;
    }
    ADD_FAILURE() << "no gateway " << name;
    return c.gateways.front();
  };
  EXPECT_EQ(gw("l3g-1").type, "l3g");
  EXPECT_EQ(gw("l3g-1").api_root, "https://l3g.example.net");
  EXPECT_EQ(gw("l3g-1").max_segment_bytes, 2048);  // --set after the file
  EXPECT_EQ(gw("cbc").type, "bg");
  EXPECT_EQ(gw("cbc").max_segment_bytes, 0);
  EXPECT_EQ(gw("cbc").areas, (std::vector<std::string>{"south-1", "south-2"}));  // --set list
  EXPECT_EQ(gw("bc-north").areas, (std::vector<std::string>{"north-*", "area-7"}));
  EXPECT_TRUE(gw("l3g-1").areas.empty());
  EXPECT_EQ(gw("n3g-1").type, "n3g");
  EXPECT_EQ(gw("n3g-1").api_root, "http://127.0.0.1:9");
  EXPECT_TRUE(Load("").gateways.empty());  // none by default
}

TEST_F(ConfigTest, BadGatewaysAreRefusedWithTheKey) {
  EXPECT_NE(Error(Write("[gateways.g]\ntype = \"sms\"\napi_root = \"http://x\"\n"))
                .find("gateways.g.type"),
            std::string::npos);
  EXPECT_NE(Error(Write("[gateways.g]\ntype = \"l3g\"\napi_root = \"ftp://x\"\n"))
                .find("gateways.g.api_root"),
            std::string::npos);
  EXPECT_NE(Error(Write("[gateways.g]\ntype = \"l3g\"\napi_root = \"http://x\"\nport = 5\n"))
                .find("gateways.g.port"),
            std::string::npos);
  EXPECT_NE(Error(Write("[gateways.g]\ntype = \"l3g\"\napi_root = \"http://x\"\n"
                        "max_segment_bytes = -1\n"))
                .find("max_segment_bytes"),
            std::string::npos);
  EXPECT_NE(Error("", {"gateways.g.max_segment_bytes=many"}).find("gateways.g.max_segment_bytes"),
            std::string::npos);
  // Broadcast Areas belong to bg gateways only.
  EXPECT_NE(Error(Write("[gateways.g]\ntype = \"l3g\"\napi_root = \"http://x\"\nareas = [\"a\"]\n"))
                .find("gateways.g.areas"),
            std::string::npos);
  EXPECT_NE(Error(Write("[gateways.g]\ntype = \"bg\"\napi_root = \"http://x\"\nareas = [1]\n"))
                .find("gateways.g.areas"),
            std::string::npos);
  // The broadcast gateway must be a configured gateway of type bg.
  EXPECT_NE(Error(Write("[broker]\nbroadcast_gateway = \"g\"\n[gateways.g]\ntype = \"l3g\"\n"
                        "api_root = \"http://x\"\n"))
                .find("broker.broadcast_gateway"),
            std::string::npos);
  EXPECT_NE(Error("", {"broker.broadcast_gateway=nowhere"}).find("broker.broadcast_gateway"),
            std::string::npos);
}

TEST_F(ConfigTest, FileWithDottedKeysOverridesDefaults) {
  Config c = Load(Write("api.threads = 8\nlog.level = \"warn\"\n"));
  EXPECT_EQ(c.api_threads, 8);
  EXPECT_EQ(c.log_level, "warn");
}

TEST_F(ConfigTest, TlsFileSettingsAreLoaded) {
  Config c = Load(Write(R"(
[tls]
enabled = true
cert_file = "/etc/msgin5g/cert.pem"
key_file = "/etc/msgin5g/key.pem"
ca_file = "/etc/msgin5g/ca.pem"
require_client_cert = true
handshake_timeout_ms = 5000
)"));
  EXPECT_TRUE(c.tls_enabled);
  EXPECT_EQ(c.tls_cert_file, "/etc/msgin5g/cert.pem");
  EXPECT_EQ(c.tls_key_file, "/etc/msgin5g/key.pem");
  EXPECT_EQ(c.tls_ca_file, "/etc/msgin5g/ca.pem");
  EXPECT_TRUE(c.tls_require_client_cert);
  EXPECT_EQ(c.tls_handshake_timeout_ms, 5000);
}

TEST_F(ConfigTest, SetOverridesBareString) {
  Config c = Load("", {"api.listen=0.0.0.0:8443", "tls.cert_file=/etc/my certs/c.pem"});
  EXPECT_EQ(c.api_listen, "0.0.0.0:8443");
  EXPECT_EQ(c.tls_cert_file, "/etc/my certs/c.pem");
}

TEST_F(ConfigTest, SetOverridesQuotedString) {
  Config c = Load("", {"api.api_root=\"/msgin5g\""});
  EXPECT_EQ(c.api_root, "/msgin5g");
}

TEST_F(ConfigTest, SetBareStringWithQuotesAndBackslashesIsTakenLiterally) {
  Config c = Load("", {"tls.key_file=a'b\\c=d"});
  EXPECT_EQ(c.tls_key_file, "a'b\\c=d");
}

TEST_F(ConfigTest, SetEmptyStringValue) {
  Config c = Load(Write("[api]\napi_root = \"/x\"\n"), {"api.api_root="});
  EXPECT_EQ(c.api_root, "");
}

TEST_F(ConfigTest, SetOverridesIntegers) {
  Config c = Load("", {"api.threads=16", "storage.max_batch_ops=1", "shutdown.drain_timeout_ms=0"});
  EXPECT_EQ(c.api_threads, 16);
  EXPECT_EQ(c.storage_max_batch_ops, 1);
  EXPECT_EQ(c.shutdown_drain_timeout_ms, 0);
}

TEST_F(ConfigTest, SetOverridesBooleans) {
  Config c = Load("", {"api.http1=false", "tls.require_client_cert=true", "tls.ca_file=/ca.pem"});
  EXPECT_FALSE(c.api_http1);
  EXPECT_TRUE(c.tls_require_client_cert);
  EXPECT_EQ(c.tls_ca_file, "/ca.pem");
}

TEST_F(ConfigTest, SetOverridesTheFile) {
  Config c = Load(Write("[api]\nthreads = 4\n"), {"api.threads=2"});
  EXPECT_EQ(c.api_threads, 2);
}

TEST_F(ConfigTest, LaterSetWins) {
  Config c = Load("", {"log.level=debug", "log.level=error"});
  EXPECT_EQ(c.log_level, "error");
}

TEST_F(ConfigTest, UnknownKeyInFileIsRejectedNamingTheKey) {
  std::string file = Write("[api]\nthreads = 2\nno_such_key = 1\n");
  std::string msg = Error(file);
  EXPECT_THAT(msg, HasSubstr("api.no_such_key"));
  EXPECT_THAT(msg, HasSubstr(file));
}

TEST_F(ConfigTest, UnknownSectionInFileIsRejectedNamingTheKey) {
  EXPECT_THAT(Error(Write("[cluster]\npeers = \"/x\"\n")), HasSubstr("cluster.peers"));
}

TEST_F(ConfigTest, TopLevelKeyInFileIsRejectedNamingTheKey) {
  EXPECT_THAT(Error(Write("threads = 2\n")), HasSubstr("threads"));
}

TEST_F(ConfigTest, UnknownSetKeyIsRejectedNamingTheKey) {
  EXPECT_THAT(Error("", {"api.thread=4"}), HasSubstr("api.thread"));
}

TEST_F(ConfigTest, SetWithoutEqualsIsRejected) {
  EXPECT_THAT(Error("", {"api.threads"}), HasSubstr("api.threads"));
}

TEST_F(ConfigTest, WrongTypeInFileIsRejectedNamingTheKey) {
  std::string msg = Error(Write("[api]\nthreads = \"four\"\n"));
  EXPECT_THAT(msg, HasSubstr("api.threads"));
  EXPECT_THAT(msg, HasSubstr("integer"));
}

TEST_F(ConfigTest, FloatForIntegerIsRejectedNamingTheKey) {
  EXPECT_THAT(Error(Write("[api]\nthreads = 4.0\n")), HasSubstr("api.threads"));
}

TEST_F(ConfigTest, IntegerForBooleanIsRejectedNamingTheKey) {
  std::string msg = Error(Write("[api]\nhttp1 = 1\n"));
  EXPECT_THAT(msg, HasSubstr("api.http1"));
  EXPECT_THAT(msg, HasSubstr("boolean"));
}

TEST_F(ConfigTest, IntegerForStringIsRejectedNamingTheKey) {
  EXPECT_THAT(Error(Write("[metrics]\nlisten = 9464\n")), HasSubstr("metrics.listen"));
}

TEST_F(ConfigTest, WrongTypeInSetIsRejectedNamingTheKey) {
  EXPECT_THAT(Error("", {"api.threads=many"}), HasSubstr("api.threads"));
  EXPECT_THAT(Error("", {"api.http1=yes"}), HasSubstr("api.http1"));
  EXPECT_THAT(Error("", {"api.http1=1"}), HasSubstr("api.http1"));
  EXPECT_THAT(Error("", {"api.threads=\"4\""}), HasSubstr("api.threads"));
}

TEST_F(ConfigTest, OutOfRangeIntegerInFileIsRejectedNamingTheKey) {
  std::string msg = Error(Write("[api]\nthreads = 257\n"));
  EXPECT_THAT(msg, HasSubstr("api.threads"));
  EXPECT_THAT(msg, HasSubstr("257"));
}

TEST_F(ConfigTest, OutOfRangeIntegerInSetIsRejectedNamingTheKey) {
  EXPECT_THAT(Error("", {"api.max_body_bytes=1023"}), HasSubstr("api.max_body_bytes"));
  EXPECT_THAT(Error("", {"storage.max_batch_ops=0"}), HasSubstr("storage.max_batch_ops"));
  EXPECT_THAT(Error("", {"api.threads=-1"}), HasSubstr("api.threads"));
}

TEST_F(ConfigTest, IntegerBoundsAreInclusive) {
  Config c = Load("", {"api.threads=256", "api.max_body_bytes=1024",
                       "api.retry_after_seconds=3600"});
  EXPECT_EQ(c.api_threads, 256);
  EXPECT_EQ(c.api_max_body_bytes, 1024);
  EXPECT_EQ(c.api_retry_after_seconds, 3600);
}

TEST_F(ConfigTest, BadLogLevelIsRejectedNamingTheKey) {
  EXPECT_THAT(Error("", {"log.level=verbose"}), HasSubstr("log.level"));
  EXPECT_THAT(Error(Write("[log]\nlevel = \"INFO\"\n")), HasSubstr("log.level"));
}

TEST_F(ConfigTest, BadUnknownRecipientPolicyIsRejectedNamingTheKey) {
  EXPECT_THAT(Error("", {"broker.unknown_recipient=drop"}), HasSubstr("broker.unknown_recipient"));
}

TEST_F(ConfigTest, TlsEnabledWithoutCertIsRejectedNamingTheKey) {
  std::string msg = Error("", {"tls.enabled=true", "tls.key_file=/k.pem"});
  EXPECT_THAT(msg, HasSubstr("tls.enabled"));
  EXPECT_THAT(msg, HasSubstr("tls.cert_file"));
}

TEST_F(ConfigTest, TlsEnabledWithoutKeyIsRejected) {
  EXPECT_THAT(Error("", {"tls.enabled=true", "tls.cert_file=/c.pem"}), HasSubstr("tls.enabled"));
}

TEST_F(ConfigTest, TlsEnabledWithCertAndKeyIsAccepted) {
  Config c = Load("", {"tls.enabled=true", "tls.cert_file=/c.pem", "tls.key_file=/k.pem"});
  EXPECT_TRUE(c.tls_enabled);
}

TEST_F(ConfigTest, RequireClientCertWithoutCaIsRejectedNamingTheKey) {
  EXPECT_THAT(Error("", {"tls.require_client_cert=true"}), HasSubstr("tls.require_client_cert"));
}

TEST_F(ConfigTest, ApiRootWithoutLeadingSlashIsRejectedNamingTheKey) {
  EXPECT_THAT(Error("", {"api.api_root=msgin5g"}), HasSubstr("api.api_root"));
}

TEST_F(ConfigTest, SyntaxErrorNamesFileAndLine) {
  std::string file = Write("[api]\nthreads = 4\nlisten = \"unterminated\n");
  std::string msg = Error(file);
  EXPECT_THAT(msg, HasSubstr(file + ":3:"));
}

TEST_F(ConfigTest, DuplicateKeyIsASyntaxErrorNamingFileAndLine) {
  std::string file = Write("[api]\nthreads = 4\n\nthreads = 5\n");
  EXPECT_THAT(Error(file), HasSubstr(file + ":4:"));
}

TEST_F(ConfigTest, MissingFileIsRejectedNamingTheFile) {
  std::string file = (dir_ / "does-not-exist.toml").string();
  EXPECT_THAT(Error(file), HasSubstr(file));
}

// The lines of a failed load's message: one per problem.
std::vector<std::string> Lines(const std::string& msg) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= msg.size()) {
    auto nl = msg.find('\n', start);
    if (nl == std::string::npos) nl = msg.size();
    out.push_back(msg.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

TEST_F(ConfigTest, EveryBadKeyIsReportedTogetherEachWithItsKeyAndLine) {
  std::string file = Write(
      "[api]\n"                        // 1
      "threads = 999\n"                // 2
      "listen = \"127.0.0.1:99999\"\n" // 3
      "\n"                             // 4
      "[storage]\n"                    // 5
      "max_batch_ops = 0\n"            // 6
      "no_such_key = 1\n"              // 7
      "\n"                             // 8
      "[log]\n"                        // 9
      "level = \"loud\"\n");           // 10
  std::string msg = Error(file, {"api.http1=1", "tls.enabled=true"});
  EXPECT_THAT(Lines(msg),
              testing::UnorderedElementsAre(
                  file + ":2: api.threads: 999 is outside [0, 256]",
                  file + ":3: api.listen: bad port in 127.0.0.1:99999 (0..65535)",
                  file + ":6: storage.max_batch_ops: 0 is outside [1, 65536]",
                  file + ":7: storage.no_such_key: unknown key",
                  file + ":10: log.level: must be debug, info, warn or error",
                  "--set api.http1: expected boolean",
                  "--set tls.enabled: needs tls.cert_file and tls.key_file"))
      << msg;
}

TEST_F(ConfigTest, TwoBadSetKeysAreReportedTogether) {
  std::string msg = Error("", {"api.threads=many", "storage.max_pending_ops=1"});
  EXPECT_THAT(Lines(msg), testing::ElementsAre("--set api.threads: cannot parse value many",
                                               "--set storage.max_pending_ops: 1 is outside [16, "
                                               "10000000]"))
      << msg;
}

TEST_F(ConfigTest, BadListenAddressesNameTheirKey) {
  EXPECT_EQ(Error("", {"api.listen=127.0.0.1:99999"}),
            "--set api.listen: bad port in 127.0.0.1:99999 (0..65535)");
  EXPECT_EQ(Error("", {"metrics.listen=127.0.0.1"}),
            "--set metrics.listen: expected host:port, not 127.0.0.1");
  EXPECT_EQ(Error("", {"admin.listen=example.net:8081"}),
            "--set admin.listen: bad address in example.net:8081 (use an IP literal)");
  EXPECT_EQ(Error("", {"metrics.listen="}), "--set metrics.listen: must not be empty (host:port)");
  EXPECT_EQ(Error("", {"coap.listen=127.0.0.1:-1"}),
            "--set coap.listen: bad port in 127.0.0.1:-1 (0..65535)");
  EXPECT_EQ(Error("", {"coap.dtls_listen=[::1]"}),
            "--set coap.dtls_listen: expected [IPv6]:port, not [::1]");
  EXPECT_THAT(Error("", {"coap.dtls_cert_listen=1.2.3.4:5:6", "coap.dtls_cert_file=/c",
                         "coap.dtls_key_file=/k", "coap.dtls_ca_file=/ca"}),
              HasSubstr("--set coap.dtls_cert_listen: bad address in 1.2.3.4:5:6"));
  // A default that is never set is reported without a location.
  EXPECT_EQ(Error(Write("[api]\nthreads = 1\n"), {"broker.max_ttl_s=60"}),
            "broker.default_ttl_s: must not exceed broker.max_ttl_s");
  // What the listeners accept is accepted.
  Config c = Load("", {"api.listen=[::1]:0", "metrics.listen=*:9464", "admin.listen=localhost:0",
                       "admin.tokens_file=/t",
                       "coap.listen=127.0.0.1:5683", "coap.dtls_listen=:5684",
                       "coap.dtls_cert_listen=[fe80::1%lo]:65535", "coap.dtls_cert_file=/c",
                       "coap.dtls_key_file=/k", "coap.dtls_ca_file=/ca"});
  EXPECT_EQ(c.api_listen, "[::1]:0");
  EXPECT_EQ(c.coap_dtls_listen, ":5684");
}

TEST_F(ConfigTest, ChecksAcrossKeysNameTheLineOfTheKeyInTheFile) {
  std::string file = Write(
      "[tls]\n"                                 // 1
      "enabled = true\n"                        // 2
      "cert_file = \"/c.pem\"\n"                // 3
      "[gateways.g]\n"                          // 4
      "type = \"sms\"\n"                        // 5
      "[clients.as-1]\n"                        // 6
      "psk_key = \"abc\"\n"                     // 7
      "[issuers.ccf]\n"                         // 8
      "issuer = \"x\"\n");                      // 9
  EXPECT_THAT(Lines(Error(file)),
              testing::UnorderedElementsAre(
                  file + ":2: tls.enabled: needs tls.cert_file and tls.key_file",
                  file + ":5: gateways.g.type: must be l3g, n3g or bg",
                  // Not set at all: reported at the table that lacks it.
                  file + ":4: gateways.g.api_root: must be an http:// or https:// URL",
                  file + ":7: clients.as-1.psk_key: must be at least 32 hex digits (16 bytes)",
                  file + ":8: issuers.ccf.public_key_file: is required"));
  // A --set wins over the file, and is named instead.
  EXPECT_EQ(Error(Write("[api]\nlisten = \"127.0.0.1:1\"\n"), {"api.listen=127.0.0.1:70000"}),
            "--set api.listen: bad port in 127.0.0.1:70000 (0..65535)");
}

TEST_F(ConfigTest, UnknownSectionsAndKeysAreAllNamedWithTheirLine) {
  std::string file = Write("threads = 2\n[cluster]\npeers = 1\n[api]\nthread = 4\n");
  EXPECT_THAT(Lines(Error(file)),
              testing::UnorderedElementsAre(file + ":1: threads: unknown key",
                                            file + ":3: cluster.peers: unknown key",
                                            file + ":5: api.thread: unknown key"));
}

TEST_F(ConfigTest, SyntaxErrorIsReportedWithTheBadSetKeys) {
  std::string file = Write("[api]\nthreads = 4\nlisten = \"unterminated\n");
  auto lines = Lines(Error(file, {"api.nope=1"}));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], testing::StartsWith(file + ":3:"));
  EXPECT_EQ(lines[1], "--set api.nope: unknown key");
}

// ---------------------------------------------------------------------------------------------
// Security: [security], [clients.ID], [issuers.NAME] and the outbound delivery credentials.

const Config::Client* FindClient(const Config& c, const std::string& id) {
  for (const auto& cl : c.clients) {
    if (cl.id == id) return &cl;
  }
  return nullptr;
}

const Config::Issuer* FindIssuer(const Config& c, const std::string& name) {
  for (const auto& i : c.issuers) {
    if (i.name == name) return &i;
  }
  return nullptr;
}

TEST_F(ConfigTest, SecurityDefaults) {
  for (const Config& c : {Load(""), Load(Write(DefaultConfigText()))}) {
    EXPECT_EQ(c.security_mode, "off");
    EXPECT_EQ(c.security_server_id, "msgin5g");
    EXPECT_FALSE(c.security_token_endpoint);
    EXPECT_EQ(c.security_issuer, "");
    EXPECT_EQ(c.security_signing_key_file, "");
    EXPECT_EQ(c.security_token_lifetime_s, 3600);
    EXPECT_EQ(c.security_token_leeway_s, 30);
    EXPECT_TRUE(c.clients.empty());
    EXPECT_TRUE(c.issuers.empty());
    EXPECT_EQ(c.delivery_tls_cert_file, "");
    EXPECT_EQ(c.delivery_tls_key_file, "");
    EXPECT_EQ(c.delivery_oauth2_token_url, "");
    EXPECT_EQ(c.delivery_oauth2_client_id, "");
    EXPECT_EQ(c.delivery_oauth2_client_secret, "");
    EXPECT_EQ(c.delivery_oauth2_scope, "");
  }
  std::string text = DefaultConfigText();
  EXPECT_THAT(text, HasSubstr("[security]"));
  EXPECT_THAT(text, HasSubstr("mode = \"off\""));
  EXPECT_THAT(text, HasSubstr("# [clients.as-1]"));
  EXPECT_THAT(text, HasSubstr("# [issuers.ccf]"));
  std::string help = ConfigHelp();
  for (const char* key : {"security.mode", "security.server_id", "security.token_endpoint",
                          "security.token_leeway_s", "delivery.oauth2_token_url",
                          "delivery.tls_cert_file", "clients.ID", "issuers.NAME"}) {
    EXPECT_THAT(help, HasSubstr(key));
  }
}

TEST_F(ConfigTest, SecuritySettingsFromFileAndSet) {
  Config c = Load(Write(R"(
[security]
mode = "oauth2"
server_id = "msgin5g-eu-1"
token_endpoint = true
issuer = "https://msgin5g.example.net"
signing_key_file = "/etc/msgin5g/signing.pem"
token_lifetime_s = 600
token_leeway_s = 5
)"),
                  {"security.token_leeway_s=0", "security.token_lifetime_s=86400"});
  EXPECT_EQ(c.security_mode, "oauth2");
  EXPECT_EQ(c.security_server_id, "msgin5g-eu-1");
  EXPECT_TRUE(c.security_token_endpoint);
  EXPECT_EQ(c.security_issuer, "https://msgin5g.example.net");
  EXPECT_EQ(c.security_signing_key_file, "/etc/msgin5g/signing.pem");
  EXPECT_EQ(c.security_token_lifetime_s, 86400);
  EXPECT_EQ(c.security_token_leeway_s, 0);
}

TEST_F(ConfigTest, SecurityModeMustBeOffTlsOrOauth2) {
  for (const char* bad : {"none", "OFF", "", "mtls", "oauth"}) {
    EXPECT_THAT(Error("", {std::string("security.mode=") + bad}), HasSubstr("security.mode"))
        << bad;
  }
  EXPECT_THAT(Error(Write("[security]\nmode = true\n")), HasSubstr("security.mode"));
  EXPECT_EQ(Load("", {"security.mode=off"}).security_mode, "off");
}

TEST_F(ConfigTest, SecurityModeTlsNeedsTlsEnabled) {
  std::string msg = Error("", {"security.mode=tls"});
  EXPECT_THAT(msg, HasSubstr("security.mode"));
  EXPECT_THAT(msg, HasSubstr("tls.enabled"));
  Config c = Load("", {"security.mode=tls", "tls.enabled=true", "tls.cert_file=/c.pem",
                       "tls.key_file=/k.pem"});
  EXPECT_EQ(c.security_mode, "tls");
}

TEST_F(ConfigTest, SecurityModeOauth2NeedsTokenEndpointOrAnIssuer) {
  std::string msg = Error("", {"security.mode=oauth2"});
  EXPECT_THAT(msg, HasSubstr("security.mode"));
  EXPECT_THAT(msg, HasSubstr("token_endpoint"));
  EXPECT_THAT(msg, HasSubstr("issuers"));
  EXPECT_EQ(Load("", {"security.mode=oauth2", "security.token_endpoint=true"}).security_mode,
            "oauth2");
  Config c = Load(Write("[security]\nmode = \"oauth2\"\n[issuers.ccf]\n"
                        "public_key_file = \"/etc/msgin5g/ccf.pem\"\n"));
  EXPECT_EQ(c.security_mode, "oauth2");
  ASSERT_EQ(c.issuers.size(), 1u);
  // Mode off needs neither.
  EXPECT_EQ(Load("", {"security.mode=off"}).issuers.size(), 0u);
}

TEST_F(ConfigTest, SecureModesHoldConfiguredDestinationsToTls) {
  const std::string gw = "[gateways.sms]\ntype = \"l3g\"\napi_root = \"http://10.0.0.5:8090\"\n";
  const std::vector<std::string> oauth2 = {"security.mode=oauth2", "security.token_endpoint=true"};
  // Mode off: http:// gateways are accepted as before.
  EXPECT_EQ(Load(Write(gw)).gateways.size(), 1u);
  std::string msg = Error(Write(gw), oauth2);
  EXPECT_THAT(msg, HasSubstr("gateways.sms.api_root"));
  EXPECT_THAT(msg, HasSubstr("https://"));
  EXPECT_THAT(msg, HasSubstr("delivery.plaintext_targets"));
  // Listed: accepted; another port of the listed host is not.
  auto with = [&](const std::string& list) {
    auto v = oauth2;
    v.push_back("delivery.plaintext_targets=" + list);
    return v;
  };
  EXPECT_EQ(Load(Write(gw), with(R"(["10.0.0.5:8090"])")).delivery_plaintext_targets.size(), 1u);
  EXPECT_EQ(Load(Write(gw), with(R"(["10.0.0.5"])")).gateways.size(), 1u);
  EXPECT_THAT(Error(Write(gw), with(R"(["10.0.0.5:8091"])")), HasSubstr("gateways.sms.api_root"));
  // https:// needs no entry; the outbound token endpoint follows the same rule.
  EXPECT_EQ(Load(Write("[gateways.sms]\ntype = \"l3g\"\napi_root = \"https://10.0.0.5\"\n"),
                 oauth2).gateways.size(), 1u);
  auto token = oauth2;
  token.push_back("delivery.oauth2_token_url=http://idp.example.net/token");
  EXPECT_THAT(Error("", token), HasSubstr("delivery.oauth2_token_url"));
  // Entries are checked in every mode.
  EXPECT_THAT(Error("", {R"(delivery.plaintext_targets=["http://x/"])"}),
              HasSubstr("delivery.plaintext_targets"));
}

TEST_F(ConfigTest, CapifNeedsItsCoreFunctionAndHoldsItToTls) {
  const std::vector<std::string> on = {"capif.enabled=true", "capif.api_root=https://ccf.example",
                                       "capif.apf_id=apf-1"};
  Config c = Load("", on);
  EXPECT_TRUE(c.capif_enabled);
  EXPECT_TRUE(c.capif_publish);
  EXPECT_EQ(c.capif_keys_refresh_s, 300);
  EXPECT_EQ(c.capif_invoker_cache_ttl_s, 300);
  auto with = [&](std::vector<std::string> more) {
    auto v = on;
    v.insert(v.end(), more.begin(), more.end());
    return v;
  };
  EXPECT_THAT(Error("", {"capif.enabled=true"}), HasSubstr("capif.api_root"));
  EXPECT_THAT(Error("", with({"capif.apf_id="})), HasSubstr("capif.apf_id"));
  EXPECT_EQ(Load("", with({"capif.apf_id=", "capif.publish=false"})).capif_apf_id, "");
  EXPECT_THAT(Error("", with({"capif.keys_url=https://ccf.example/keys"})),
              HasSubstr("capif.issuer"));
  EXPECT_THAT(Error("", with({"capif.keys_url=ftp://x", "capif.issuer=ccf"})),
              HasSubstr("capif.keys_url"));
  EXPECT_THAT(Error("", with({"capif.advertise=no-port"})), HasSubstr("capif.advertise"));
  EXPECT_THAT(Error("", with({"capif.invoker_cache_ttl_s=0"})), HasSubstr("invoker_cache_ttl_s"));
  // oauth2 may rest on the CCF's keys alone.
  EXPECT_EQ(Load("", with({"security.mode=oauth2", "capif.keys_url=https://ccf.example/keys",
                           "capif.issuer=ccf"})).security_mode, "oauth2");
  // In a secure mode the CCF is reached over https:// unless its host is listed.
  auto plain = with({"security.mode=oauth2", "security.token_endpoint=true",
                     "capif.api_root=http://10.0.0.9:8443"});
  EXPECT_THAT(Error("", plain), HasSubstr("capif.api_root"));
  plain.push_back(R"(delivery.plaintext_targets=["10.0.0.9"])");
  EXPECT_EQ(Load("", plain).capif_api_root, "http://10.0.0.9:8443");
}

TEST_F(ConfigTest, SecurityIntegerBoundsAndServerId) {
  EXPECT_THAT(Error("", {"security.token_leeway_s=31"}), HasSubstr("security.token_leeway_s"));
  EXPECT_THAT(Error("", {"security.token_leeway_s=-1"}), HasSubstr("security.token_leeway_s"));
  EXPECT_THAT(Error("", {"security.token_lifetime_s=59"}), HasSubstr("security.token_lifetime_s"));
  EXPECT_THAT(Error("", {"security.token_lifetime_s=86401"}),
              HasSubstr("security.token_lifetime_s"));
  EXPECT_THAT(Error("", {"security.token_endpoint=yes"}), HasSubstr("security.token_endpoint"));
  EXPECT_THAT(Error("", {"security.server_id="}), HasSubstr("security.server_id"));
  Config c = Load("", {"security.token_leeway_s=30", "security.token_lifetime_s=60"});
  EXPECT_EQ(c.security_token_leeway_s, 30);
  EXPECT_EQ(c.security_token_lifetime_s, 60);
}

TEST_F(ConfigTest, ClientsAreParsed) {
  Config c = Load(Write(R"(
[clients.as-1]
secret_hash = "pbkdf2-sha256$20000$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g="
apis = ["msgs-msgdelivery"]
destinations = ["GROUP:g1", "UE:ue-1*"]
origins = ["AS:as-1"]
rate_limit = 100
rate_burst = 2.5
tls_identity = "as-1.example.net"
psk_identity = "psk-as-1"
psk_key = "00112233445566778899aabbccddeeff"

[clients.gw-1]
rate_limit = 0.5
apis = []
destinations = []

[clients."as.2"]
tls_identity = "spiffe://example.net/as-2"
)"));
  ASSERT_EQ(c.clients.size(), 3u);
  const Config::Client* a = FindClient(c, "as-1");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->secret_hash,
            "pbkdf2-sha256$20000$c2FsdHNhbHRzYWx0c2FsdA==$"
            "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=");
  EXPECT_EQ(a->apis, std::vector<std::string>({"msgs-msgdelivery"}));
  EXPECT_EQ(a->destinations, std::vector<std::string>({"GROUP:g1", "UE:ue-1*"}));
  EXPECT_EQ(a->origins, std::vector<std::string>({"AS:as-1"}));
  EXPECT_DOUBLE_EQ(a->rate_limit, 100);  // an integer is a number
  EXPECT_DOUBLE_EQ(a->rate_burst, 2.5);
  EXPECT_EQ(a->tls_identity, "as-1.example.net");
  EXPECT_EQ(a->psk_identity, "psk-as-1");
  EXPECT_EQ(a->psk_key_hex, "00112233445566778899aabbccddeeff");

  const Config::Client* g = FindClient(c, "gw-1");
  ASSERT_NE(g, nullptr);
  EXPECT_DOUBLE_EQ(g->rate_limit, 0.5);
  EXPECT_DOUBLE_EQ(g->rate_burst, 0);
  EXPECT_TRUE(g->apis.empty());          // an explicit empty list is kept
  EXPECT_TRUE(g->destinations.empty());
  EXPECT_EQ(g->origins, std::vector<std::string>({"*"}));  // default

  const Config::Client* b = FindClient(c, "as.2");  // a quoted id with a dot
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->tls_identity, "spiffe://example.net/as-2");
}

TEST_F(ConfigTest, ClientDefaults) {
  Config c = Load(Write("[clients.as-1]\ntls_identity = \"as-1.example.net\"\n"));
  ASSERT_EQ(c.clients.size(), 1u);
  const Config::Client& cl = c.clients.front();
  EXPECT_EQ(cl.id, "as-1");
  EXPECT_EQ(cl.secret_hash, "");
  EXPECT_EQ(cl.apis, std::vector<std::string>({"msgs-asregistration", "msgs-msgdelivery"}));
  EXPECT_EQ(cl.destinations, std::vector<std::string>({"*"}));
  EXPECT_EQ(cl.origins, std::vector<std::string>({"*"}));
  EXPECT_DOUBLE_EQ(cl.rate_limit, 0);
  EXPECT_DOUBLE_EQ(cl.rate_burst, 0);
  EXPECT_EQ(cl.psk_identity, "");
  EXPECT_EQ(cl.psk_key_hex, "");
}

TEST_F(ConfigTest, BadClientKeysAreRefusedNamingTheKey) {
  std::string msg = Error(Write("[clients.as-1]\nsecret = \"x\"\n"));
  EXPECT_THAT(msg, HasSubstr("clients.as-1.secret"));
  EXPECT_THAT(msg, HasSubstr("unknown key"));
  EXPECT_THAT(Error(Write("[clients.as-1]\napis = \"msgs-msgdelivery\"\n")),
              HasSubstr("clients.as-1.apis"));
  EXPECT_THAT(Error(Write("[clients.as-1]\ndestinations = [\"UE:x\", 3]\n")),
              HasSubstr("clients.as-1.destinations"));
  EXPECT_THAT(Error(Write("[clients.as-1]\norigins = [[\"AS:x\"]]\n")),
              HasSubstr("clients.as-1.origins"));
  EXPECT_THAT(Error(Write("[clients.as-1]\nrate_limit = \"100\"\n")),
              HasSubstr("clients.as-1.rate_limit"));
  EXPECT_THAT(Error(Write("[clients.as-1]\nrate_limit = -1\n")),
              HasSubstr("clients.as-1.rate_limit"));
  EXPECT_THAT(Error(Write("[clients.as-1]\nrate_burst = -0.5\n")),
              HasSubstr("clients.as-1.rate_burst"));
  EXPECT_THAT(Error(Write("[clients.as-1]\nrate_burst = true\n")),
              HasSubstr("clients.as-1.rate_burst"));
  EXPECT_THAT(Error(Write("[clients.as-1]\nsecret_hash = 5\n")),
              HasSubstr("clients.as-1.secret_hash"));
  EXPECT_THAT(Error(Write("[clients.as-1]\ntls_identity = [\"a\"]\n")),
              HasSubstr("clients.as-1.tls_identity"));
  EXPECT_THAT(Error(Write("[clients]\nas-1 = \"x\"\n")), HasSubstr("clients.as-1"));
  EXPECT_THAT(Error(Write("clients = 5\n")), HasSubstr("clients"));
  // Clients are file-only: --set does not know them.
  EXPECT_THAT(Error("", {"clients.as-1.rate_limit=5"}), HasSubstr("clients.as-1.rate_limit"));
}

// TOML allows nan and inf as floats; "nan" would pass a plain ">= 0" check (every comparison with
// NaN is false) and silently mean "unlimited". Refused like -1.
TEST_F(ConfigTest, NonFiniteClientRateIsRefused) {
  EXPECT_THAT(Error(Write("[clients.as-1]\nrate_limit = nan\n")),
              HasSubstr("clients.as-1.rate_limit"));
  EXPECT_THAT(Error(Write("[clients.as-1]\nrate_burst = nan\n")),
              HasSubstr("clients.as-1.rate_burst"));
  EXPECT_THAT(Error(Write("[clients.as-1]\nrate_limit = -inf\n")),
              HasSubstr("clients.as-1.rate_limit"));
}

TEST_F(ConfigTest, PskKeyMustBeAtLeast32HexDigits) {
  auto with_key = [&](const std::string& key) {
    return Write("[clients.as-1]\npsk_identity = \"psk-1\"\npsk_key = \"" + key + "\"\n");
  };
  for (const std::string& bad : {std::string(30, 'a'),                      // 15 bytes
                                 std::string(31, 'a'),                      // odd, short
                                 std::string(33, 'a'),                      // odd
                                 std::string(31, 'a') + "g",                // not hex
                                 "0x" + std::string(32, '0'),               // prefix
                                 std::string(16, 'a') + " " + std::string(16, 'b')}) {
    std::string msg = Error(with_key(bad));
    EXPECT_THAT(msg, HasSubstr("clients.as-1.psk_key")) << bad;
  }
  for (const std::string& ok : {std::string(32, 'a'), std::string("00112233445566778899AABBCCDDEEFF"),
                                std::string(64, 'F'), std::string(34, '0')}) {
    Config c = Load(with_key(ok));
    ASSERT_EQ(c.clients.size(), 1u) << ok;
    EXPECT_EQ(c.clients.front().psk_key_hex, ok);
  }
  // No key at all is fine (a client without TLS-PSK).
  EXPECT_EQ(Load(Write("[clients.as-1]\npsk_key = \"\"\n")).clients.size(), 1u);
  EXPECT_THAT(Error(Write("[clients.as-1]\npsk_key = 12345\n")), HasSubstr("clients.as-1.psk_key"));
}

TEST_F(ConfigTest, IssuersAreParsedAndIssuerDefaultsToTheName) {
  Config c = Load(Write(R"(
[issuers.ccf]
public_key_file = "/etc/msgin5g/ccf.pem"

[issuers.nrf]
issuer = "https://nrf.example.net"
public_key_file = "/etc/msgin5g/nrf-cert.pem"
)"));
  ASSERT_EQ(c.issuers.size(), 2u);
  const Config::Issuer* ccf = FindIssuer(c, "ccf");
  ASSERT_NE(ccf, nullptr);
  EXPECT_EQ(ccf->issuer, "ccf");
  EXPECT_EQ(ccf->public_key_file, "/etc/msgin5g/ccf.pem");
  const Config::Issuer* nrf = FindIssuer(c, "nrf");
  ASSERT_NE(nrf, nullptr);
  EXPECT_EQ(nrf->issuer, "https://nrf.example.net");
  EXPECT_EQ(nrf->public_key_file, "/etc/msgin5g/nrf-cert.pem");
}

TEST_F(ConfigTest, BadIssuersAreRefusedNamingTheKey) {
  std::string msg = Error(Write("[issuers.ccf]\nissuer = \"ccf\"\n"));
  EXPECT_THAT(msg, HasSubstr("issuers.ccf.public_key_file"));
  EXPECT_THAT(Error(Write("[issuers.ccf]\npublic_key_file = \"/k.pem\"\nalg = \"ES256\"\n")),
              HasSubstr("issuers.ccf.alg"));
  EXPECT_THAT(Error(Write("[issuers.ccf]\npublic_key_file = 1\n")),
              HasSubstr("issuers.ccf.public_key_file"));
  EXPECT_THAT(Error(Write("[issuers.ccf]\npublic_key_file = \"/k.pem\"\nissuer = [\"a\"]\n")),
              HasSubstr("issuers.ccf.issuer"));
  EXPECT_THAT(Error(Write("[issuers]\nccf = \"/k.pem\"\n")), HasSubstr("issuers.ccf"));
  EXPECT_THAT(Error("", {"issuers.ccf.public_key_file=/k.pem"}),
              HasSubstr("issuers.ccf.public_key_file"));
}

TEST_F(ConfigTest, DeliveryOauth2TokenUrlNeedsAClientId) {
  std::string msg = Error("", {"delivery.oauth2_token_url=https://nrf.example.net/oauth2/token"});
  EXPECT_THAT(msg, HasSubstr("delivery.oauth2_token_url"));
  EXPECT_THAT(msg, HasSubstr("delivery.oauth2_client_id"));
  Config c = Load(Write(R"(
[delivery]
oauth2_token_url = "https://nrf.example.net/oauth2/token"
oauth2_client_id = "msgin5g"
oauth2_client_secret = "s3cret"
oauth2_scope = "3gpp#as-1:nmsg-delivery"
)"));
  EXPECT_EQ(c.delivery_oauth2_token_url, "https://nrf.example.net/oauth2/token");
  EXPECT_EQ(c.delivery_oauth2_client_id, "msgin5g");
  EXPECT_EQ(c.delivery_oauth2_client_secret, "s3cret");
  EXPECT_EQ(c.delivery_oauth2_scope, "3gpp#as-1:nmsg-delivery");
  // A client id without a token URL is harmless.
  EXPECT_EQ(Load("", {"delivery.oauth2_client_id=x"}).delivery_oauth2_client_id, "x");
}

TEST_F(ConfigTest, DeliveryTlsCertAndKeyGoTogether) {
  EXPECT_THAT(Error("", {"delivery.tls_cert_file=/c.pem"}), HasSubstr("delivery.tls_key_file"));
  EXPECT_THAT(Error("", {"delivery.tls_key_file=/k.pem"}), HasSubstr("delivery.tls_cert_file"));
  Config c = Load("", {"delivery.tls_cert_file=/c.pem", "delivery.tls_key_file=/k.pem"});
  EXPECT_EQ(c.delivery_tls_cert_file, "/c.pem");
  EXPECT_EQ(c.delivery_tls_key_file, "/k.pem");
}

TEST_F(ConfigTest, CoapCertificateEndpointNeedsItsFiles) {
  std::string why = Error("", {"coap.dtls_cert_listen=127.0.0.1:5685",
                                   "coap.dtls_cert_file=/etc/s.pem", "coap.dtls_key_file=/etc/s.key"});
  EXPECT_NE(why.find("coap.dtls_ca_file"), std::string::npos) << why;
  Config c = Load("", {"coap.dtls_cert_listen=127.0.0.1:5685", "coap.dtls_cert_file=/etc/s.pem",
                       "coap.dtls_key_file=/etc/s.key", "coap.dtls_ca_file=/etc/ca.pem",
                       "coap.segment_recovery_ms=250", "coap.segment_recovery_requests=0"});
  EXPECT_EQ(c.coap_dtls_ca_file, "/etc/ca.pem");
  EXPECT_EQ(c.coap_segment_recovery_ms, 250);
  EXPECT_EQ(c.coap_segment_recovery_requests, 0);
  EXPECT_NE(Error("", {"coap.segment_recovery_ms=10"}).find("coap.segment_recovery_ms"),
            std::string::npos);
  EXPECT_THAT(Error("", {"coap.segment_recovery_ms=20000", "broker.segment_timeout_ms=60000"}),
              HasSubstr("broker.segment_timeout_ms"));
}

// The admin API over TCP always needs credentials (tokens or client certificates); off loopback
// also TLS, so tokens never cross a network in clear text. The Unix socket needs neither.
TEST_F(ConfigTest, AdminOverTcpNeedsCredentialsAndOffLoopbackTls) {
  EXPECT_THAT(Error("", {"admin.listen=127.0.0.1:8081"}),
              HasSubstr("--set admin.listen: needs credentials: set admin.tokens_file"));
  EXPECT_EQ(Load("", {"admin.listen=[::1]:8081", "admin.tokens_file=/t"}).admin_listen, "[::1]:8081");
  EXPECT_EQ(Load("", {"admin.listen=127.0.0.1:8081", "admin.tls=true", "tls.cert_file=/c",
                      "tls.key_file=/k", "tls.ca_file=/ca"})
                .admin_listen,
            "127.0.0.1:8081");  // client certificates alone
  EXPECT_THAT(Error("", {"admin.listen=0.0.0.0:8081", "admin.tokens_file=/t"}),
              HasSubstr("--set admin.listen: is not a loopback address"));  // tokens in clear text
  EXPECT_THAT(Error("", {"admin.listen=10.0.0.5:8081", "admin.tls=true", "tls.cert_file=/c",
                         "tls.key_file=/k", "tls.ca_file=/ca"}),
              HasSubstr("admin.listen: is not a loopback address"));  // certificates optional
  Config mtls = Load("", {"admin.listen=10.0.0.5:8081", "admin.tls=true", "tls.cert_file=/c",
                          "tls.key_file=/k", "tls.ca_file=/ca", "tls.require_client_cert=true"});
  EXPECT_EQ(mtls.admin_listen, "10.0.0.5:8081");
  Config tokens = Load("", {"admin.listen=10.0.0.5:8081", "admin.tls=true", "tls.cert_file=/c",
                            "tls.key_file=/k", "admin.tokens_file=/t"});
  EXPECT_EQ(tokens.admin_listen, "10.0.0.5:8081");
  EXPECT_THAT(Error("", {"admin.socket=/" + std::string(120, 'x')}),
              HasSubstr("admin.socket: a Unix socket path must be at most 107 bytes"));
}

TEST_F(ConfigTest, MaxTtlAndPrivateTargets) {
  Config d = Load("");
  EXPECT_EQ(d.broker_max_ttl_s, 30 * 86400);
  EXPECT_FALSE(d.delivery_allow_private_targets);
  Config c = Load("", {"broker.max_ttl_s=7200", "broker.default_ttl_s=3600",
                       "delivery.allow_private_targets=true"});
  EXPECT_EQ(c.broker_max_ttl_s, 7200);
  EXPECT_TRUE(c.delivery_allow_private_targets);
  // A default longer than the maximum would be capped the moment it is used: refused instead.
  EXPECT_THAT(Error("", {"broker.max_ttl_s=3600"}), HasSubstr("broker.max_ttl_s"));
  EXPECT_THAT(Error("", {"broker.max_ttl_s=0"}), HasSubstr("broker.max_ttl_s"));
}

}  // namespace
}  // namespace msgin5g::daemon
