#!/usr/bin/env python3
"""The shipped dashboard and alert rules against live daemons and a real Prometheus (Debian's).

Starts msgin5gd and msgin5g-gatewayd (the L3G role on, its SMSC absent) on free loopback ports,
sends a message to a UE and lets msgin5g-ue take it over CoAP (so delivery metrics exist), and
runs /usr/bin/prometheus scraping both every second with packaging/prometheus/msgin5g-rules.yml
loaded. Then:
  - every panel expression of packaging/grafana/msgin5g-dashboard.json returns a non-empty result
    (no dead panel: a misspelt metric or label returns nothing);
  - every rule is loaded and evaluates without error, and every metric it names has series;
  - promtool check rules and promtool test rules pass.
Usage: monitoring_test.py BUILD_DIR SOURCE_DIR
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

build, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
work = tempfile.mkdtemp(prefix="msgin5g-monitoring-")
procs = []


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    for name in ("msgin5gd.log", "gatewayd.log", "prometheus.log"):
        path = os.path.join(work, name)
        if os.path.exists(path):
            print("--- " + name, file=sys.stderr)
            print(open(path).read()[-4000:], file=sys.stderr)
    sys.exit(1)


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(name, argv):
    log = open(os.path.join(work, name + ".log"), "w")
    p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=work)
    procs.append(p)
    return p


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def wait(what, fn, seconds=30):
    deadline = time.time() + seconds
    last = None
    while time.time() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # not up yet
            last = e
        time.sleep(0.25)
    fail("%s (last: %r)" % (what, last))


def main():
    api, metrics, coap = free_port(), free_port(), free_port(socket.SOCK_DGRAM)
    start("msgin5gd", [build + "/daemon/msgin5gd", "--set", "storage.path=" + work + "/server",
                       "--set", "api.listen=127.0.0.1:%d" % api,
                       "--set", "admin.socket=" + work + "/admin.sock",
                       "--set", "metrics.listen=127.0.0.1:%d" % metrics,
                       "--set", "coap.listen=127.0.0.1:%d" % coap])
    gw_api, gw_admin, gw_metrics = free_port(), free_port(), free_port()
    start("gatewayd", [build + "/gateway/msgin5g-gatewayd", "--set", "storage.path=" + work + "/gw",
                       "--set", "l3g.enabled=true", "--set", 'l3g.smsc=["127.0.0.1:1"]',
                       "--set", "l3g.system_id=monitoring",
                       "--set", "api.listen=127.0.0.1:%d" % gw_api,
                       "--set", "admin.listen=127.0.0.1:%d" % gw_admin,
                       "--set", "metrics.listen=127.0.0.1:%d" % gw_metrics,
                       "--set", "server.api_root=http://127.0.0.1:%d" % api])
    wait("msgin5gd up", lambda: get("http://127.0.0.1:%d/healthz" % metrics) is not None)
    wait("gatewayd up", lambda: get("http://127.0.0.1:%d/healthz" % gw_metrics) is not None)

    # Traffic: one message stored for a UE, then taken by the UE over CoAP.
    body = json.dumps({"oriAddr": {"addrType": "AS", "addr": "as-mon"},
                       "destAddr": {"addrType": "UE", "addr": "ue-mon"}, "msgId": "mon-1",
                       "stoAndFwInd": True, "payload": "for the dashboard"})
    out = subprocess.run(["curl", "-s", "--http2-prior-knowledge", "-H", "content-type: application/json",
                          "-d", body, "http://127.0.0.1:%d/msgs-msgdelivery/v1/deliver-as-message" % api],
                         capture_output=True, text=True, timeout=30)
    if "DELY_STORED" not in out.stdout:
        fail("deliver-as-message: " + out.stdout + out.stderr)
    ue = subprocess.run([build + "/tools/msgin5g-ue", "--server", "127.0.0.1:%d" % coap, "--ue", "ue-mon",
                         "listen", "--count", "1", "--seconds", "10"], capture_output=True, text=True,
                        timeout=60)
    if "mon-1" not in ue.stdout:
        fail("the UE did not get the message: " + ue.stdout + ue.stderr)

    prom_port = free_port()
    rules = os.path.join(src, "packaging/prometheus/msgin5g-rules.yml")
    shutil.copy(rules, work)
    with open(os.path.join(work, "prometheus.yml"), "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "rule_files: [msgin5g-rules.yml]\n"
                "scrape_configs:\n"
                "  - job_name: msgin5gd\n    static_configs: [{targets: ['127.0.0.1:%d']}]\n"
                "  - job_name: msgin5g-gatewayd\n    static_configs: [{targets: ['127.0.0.1:%d']}]\n"
                % (metrics, gw_metrics))
    start("prometheus", ["/usr/bin/prometheus", "--config.file=" + work + "/prometheus.yml",
                         "--storage.tsdb.path=" + work + "/tsdb",
                         "--web.listen-address=127.0.0.1:%d" % prom_port])
    base = "http://127.0.0.1:%d/api/v1/" % prom_port

    def query(expr):
        r = json.loads(get(base + "query?" + urllib.parse.urlencode({"query": expr})))
        if r.get("status") != "success":
            fail("query %s: %s" % (expr, r))
        return r["data"]["result"]

    wait("both targets scraped", lambda: len(query("up == 1")) == 2)

    dashboard = json.load(open(os.path.join(src, "packaging/grafana/msgin5g-dashboard.json")))
    exprs = [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p["targets"]]
    if len(exprs) < 10:
        fail("the dashboard has only %d expressions" % len(exprs))
    for title, expr in exprs:
        concrete = expr.replace("$__rate_interval", "15s")
        result = wait("panel '%s' (%s) returns a result" % (title, concrete), lambda: query(concrete), 30)
        print("panel ok: %-40s %d series" % (title, len(result)))

    def rules_loaded():
        groups = json.loads(get(base + "rules"))["data"]["groups"]
        rs = [r for g in groups for r in g["rules"]]
        return rs if rs and all(r.get("health") == "ok" for r in rs) else None

    loaded = wait("every rule loaded and evaluated without error", rules_loaded, 30)
    names = set()
    for r in loaded:
        for name in re.findall(r"\bmsgin5g_[a-z0-9_]+", r["query"]):
            names.add(name)
        print("rule ok: %s" % r["name"])
    for name in sorted(names):
        wait("series of %s (named by a rule)" % name,
             lambda: query('count({__name__="%s"})' % name), 20)
        print("metric ok: " + name)

    for cmd in (["promtool", "check", "rules", "msgin5g-rules.yml"],
                ["promtool", "test", "rules", "msgin5g-rules.test.yml"]):
        r = subprocess.run(cmd, cwd=os.path.join(src, "packaging/prometheus"), capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            fail(" ".join(cmd) + ": " + r.stdout + r.stderr)
    print("PASS")


try:
    main()
finally:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(work, ignore_errors=True)
