// msgin5g-gatewayd's command line, as an admin meets it: the shipped sample configuration is what
// the binary prints and checks clean, --help lists every key, bad roles' settings exit 78 with
// their key, and a role's topic that cannot work is refused before anything starts.
#include <string>

#include <gtest/gtest.h>

#include "tests/support/gateway_harness.h"
#include "tests/support/test_util.h"

namespace ts = msgin5g::testing_support;

namespace {

const std::string kGateway = std::string(MSGIN5G_BINARY_DIR) + "/gateway/msgin5g-gatewayd";

TEST(GatewayCli, PrintedDefaultConfigIsTheShippedOneAndValid) {
  ts::TempDir dir;
  auto printed = ts::Run({kGateway, "--print-default-config"});
  ASSERT_EQ(printed.exit_code, 0);
  const std::string shipped = std::string(MSGIN5G_SOURCE_DIR).append("/packaging/msgin5g-gatewayd.toml");
  EXPECT_EQ(ts::ReadFile(shipped),
            printed.out);
  ts::WriteFile(dir.File("default.toml"), printed.out);
  auto check = ts::Run({kGateway, "--config", dir.File("default.toml"), "--check-config"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  auto help = ts::Run({kGateway, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* key : {"l3g.smsc", "l3g.binary_app_ids", "n3g.down_topic", "bg.topic",
                          "mqtt.client_id", "server.api_root", "ues.ID.msisdn"}) {
    EXPECT_NE(help.out.find(key), std::string::npos) << key;
  }
}

TEST(GatewayCli, RoleSettingsThatCannotWorkExit78WithTheirKey) {
  auto l3g = ts::Run({kGateway, "--set", "l3g.enabled=true", "--check-config"});
  EXPECT_EQ(l3g.exit_code, 78);
  EXPECT_NE(l3g.err.find("l3g.smsc"), std::string::npos) << l3g.err;
  EXPECT_NE(l3g.err.find("l3g.system_id"), std::string::npos) << l3g.err;
  auto smsc = ts::Run({kGateway, "--set", "l3g.smsc=[\"nowhere\"]", "--check-config"});
  EXPECT_EQ(smsc.exit_code, 78);
  EXPECT_NE(smsc.err.find("l3g.smsc: expected host:port"), std::string::npos) << smsc.err;
  auto pw = ts::Run({kGateway, "--set", "l3g.password=longer-than-8", "--check-config"});
  EXPECT_EQ(pw.exit_code, 78);
  EXPECT_NE(pw.err.find("l3g.password"), std::string::npos) << pw.err;
  // A topic template without its placeholder would send every device's messages to one topic.
  ts::TempDir dir;
  auto topic = ts::Run({kGateway, "--set", "n3g.enabled=true", "--set", "n3g.down_topic=all/down",
                        "--set", "storage.path=" + dir.File("data"), "--set",
                        "api.listen=127.0.0.1:0", "--set", "metrics.listen=127.0.0.1:0", "--set",
                        "admin.listen=127.0.0.1:0", "--set", "mqtt.port=1"});
  EXPECT_EQ(topic.exit_code, 78);
  EXPECT_NE(topic.err.find("n3g.down_topic"), std::string::npos) << topic.err;
  // The admin API has no authentication: loopback only.
  auto admin = ts::Run({kGateway, "--set", "admin.listen=0.0.0.0:8091", "--check-config"});
  EXPECT_EQ(admin.exit_code, 78);
  EXPECT_NE(admin.err.find("admin.listen: must be a loopback address"), std::string::npos) << admin.err;
  // Secured on one side, secured on the other: http:// towards msgin5gd needs its key.
  auto certs = ts::MakeTestCerts(dir.path());
  for (std::vector<std::string> secured :
       {std::vector<std::string>{"--set", "tls.enabled=true", "--set",
                                 "tls.cert_file=" + certs.server_cert, "--set",
                                 "tls.key_file=" + certs.server_key},
        std::vector<std::string>{"--set", "server.api_root=https://127.0.0.1:8443", "--set",
                                 "server.oauth2_token_url=http://127.0.0.1:8443/oauth2/token"}}) {
    std::vector<std::string> argv = {kGateway, "--check-config"};
    argv.insert(argv.end(), secured.begin(), secured.end());
    auto plain = ts::Run(argv);
    EXPECT_EQ(plain.exit_code, 78) << plain.err;
    EXPECT_NE(plain.err.find(secured[1] == "tls.enabled=true" ? "server.api_root: must be https://"
                                                              : "server.oauth2_token_url: must be https://"),
              std::string::npos)
        << plain.err;
    argv.insert(argv.end(), {"--set", "server.allow_plaintext=true"});
    auto allowed = ts::Run(argv);
    EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
  }
  auto unknown = ts::Run({kGateway, "--nonsense"});
  EXPECT_EQ(unknown.exit_code, 64);
}

// Every role on, no peer up (the SMSC, the broker and msgin5gd are all absent): the exposition is
// valid Prometheus text and has every family of every role; /readyz says not ready, /healthz up.
TEST(GatewayCli, MetricsPassPromtoolWithEveryRoleOn) {
  ts::TempDir dir;
  ts::GatewayConfig cfg;
  cfg.server_api_root = "http://127.0.0.1:1";
  cfg.smsc = {"127.0.0.1:1"};
  cfg.extra_toml = "[mqtt]\nport = 1\n[n3g]\nenabled = true\n[bg]\nenabled = true\n";
  ts::Gateway gw(dir.File("data"), dir.path(), cfg);
  ASSERT_TRUE(gw.ok()) << gw.log();
  auto metrics = gw.MetricsGet("/metrics");
  ASSERT_EQ(metrics.status, 200);
  auto promtool = ts::Run({"promtool", "check", "metrics"}, metrics.body);
  EXPECT_EQ(promtool.exit_code, 0) << promtool.out << promtool.err;
  for (const char* family :
       {"msgin5g_gateway_role_enabled", "msgin5g_gateway_smsc_bound",
        "msgin5g_gateway_smpp_window_in_use", "msgin5g_gateway_smpp_submit_seconds",
        "msgin5g_gateway_sms_receipts_total", "msgin5g_gateway_mo_total",
        "msgin5g_gateway_mqtt_connected", "msgin5g_gateway_outbox_jobs",
        "msgin5g_gateway_storage_syncs_total"}) {
    EXPECT_NE(metrics.body.find(family), std::string::npos) << family;
  }
  EXPECT_EQ(gw.Metric("msgin5g_gateway_role_enabled", {{"role", "bg"}}), 1);
  EXPECT_EQ(gw.MetricsGet("/readyz").status, 503);  // no SMSC bind, no broker
  EXPECT_EQ(gw.MetricsGet("/healthz").status, 200);
}

}  // namespace
