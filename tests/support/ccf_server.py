#!/usr/bin/env python3
"""A CAPIF core function (TS 29.222) for msgin5gd's tests: no CCF package exists, so this serves
what msgin5gd uses of TS29222_CAPIF_Publish_Service_API.yaml, checked against that file's
schemas, plus the CCF's token signing keys.

  ccf_server.py PORT_FILE LOG_FILE [--port N] [--tls CERT KEY] [--keys JWKS_FILE]
                [--invokers FILE]

  POST {root}/published-apis/v1/{apfId}/service-apis        201 + Location, the apiId assigned
  PUT  {root}/published-apis/v1/{apfId}/service-apis/{id}   200, or 404 for an unknown id
  GET  {root}/published-apis/v1/{apfId}/service-apis        200, what is published
  GET  /keys                                                200, JWKS_FILE as it is now
  GET  {root}/capif-security/v1/trustedInvokers/{apiInvokerId}?authenticationInfo=..&
       authorizationInfo=..                                 200 with FILE's ServiceSecurity for
                                                            that id (a JSON object by id, read
                                                            at each request), else 404
  POST {root}/capif-security/v1/trustedInvokers/{apiInvokerId}/delete   a SecurityNotification:
       204, and the invoker's securityInfo entries for those apiIds (and those naming no apiId)
       leave FILE; 404 for an unknown invoker; 400 for a body that breaks the schema
A ServiceAPIDescription that breaks the schema (required members, oneOf, enums, apiId in a POST)
gets 400 ProblemDetails naming the member. Every request is appended to LOG_FILE as one JSON line
{method, path, body, status}. What is published lives in memory: a restarted CCF forgot it."""
import argparse
import json
import os
import re
import sys
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler

from test_http_server import serve

LOCK = threading.Lock()
PUBLISHED = {}  # (apfId, apiId) -> description
SECURITY_METHODS = {"PSK", "PKI", "OAUTH"}
PROTOCOLS = {"HTTP_1_1", "HTTP_2", "MQTT", "WEBSOCKET"}
DATA_FORMATS = {"JSON", "XML", "PROTOBUF3"}
COLLECTION = re.compile(r"^/published-apis/v1/([^/]+)/service-apis$")
ITEM = re.compile(r"^/published-apis/v1/([^/]+)/service-apis/([^/]+)$")
INVOKER = re.compile(r"^/capif-security/v1/trustedInvokers/([^/?]+)(\?.*)?$")
REVOKE = re.compile(r"^/capif-security/v1/trustedInvokers/([^/?]+)/delete$")
CAUSES = {"OVERLIMIT_USAGE", "UNEXPECTED_REASON"}


def check_notification(n, invoker):
    """The first SecurityNotification schema violation as (pointer, reason), or None."""
    if not isinstance(n, dict):
        return ("", "SecurityNotification must be an object")
    if n.get("apiInvokerId") != invoker:
        return ("/apiInvokerId", "required, the invoker of the path")
    if "aefId" in n and not isinstance(n["aefId"], str):
        return ("/aefId", "string")
    ids = n.get("apiIds")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        return ("/apiIds", "required array of strings with minItems 1")
    if n.get("cause") not in CAUSES:
        return ("/cause", "required Cause: OVERLIMIT_USAGE or UNEXPECTED_REASON")
    return None


def check_description(d, creating):
    """The first schema violation as (pointer, reason), or None."""
    if not isinstance(d, dict):
        return ("", "ServiceAPIDescription must be an object")
    if not isinstance(d.get("apiName"), str) or not d["apiName"]:
        return ("/apiName", "required string")
    if creating and "apiId" in d:
        return ("/apiId", "shall not be present in the POST request")
    profiles = d.get("aefProfiles")
    if profiles is None:
        return ("/aefProfiles", "msgin5g publishes with aefProfiles")
    if not isinstance(profiles, list) or not profiles:
        return ("/aefProfiles", "array with minItems 1")
    for i, p in enumerate(profiles):
        at = "/aefProfiles/%d" % i
        if not isinstance(p, dict):
            return (at, "AefProfile must be an object")
        if not isinstance(p.get("aefId"), str) or not p["aefId"]:
            return (at + "/aefId", "required string")
        versions = p.get("versions")
        if not isinstance(versions, list) or not versions:
            return (at + "/versions", "required array with minItems 1")
        for j, v in enumerate(versions):
            if not isinstance(v, dict) or not isinstance(v.get("apiVersion"), str):
                return ("%s/versions/%d/apiVersion" % (at, j), "required string")
        if ("domainName" in p) == ("interfaceDescriptions" in p):
            return (at, "oneOf: exactly one of domainName, interfaceDescriptions")
        if "protocol" in p and p["protocol"] not in PROTOCOLS:
            return (at + "/protocol", "not a Protocol")
        if "dataFormat" in p and p["dataFormat"] not in DATA_FORMATS:
            return (at + "/dataFormat", "not a DataFormat")
        for k, m in enumerate(p.get("securityMethods", [])):
            if m not in SECURITY_METHODS:
                return ("%s/securityMethods/%d" % (at, k), "not a SecurityMethod")
        for k, iface in enumerate(p.get("interfaceDescriptions", [])):
            ia = "%s/interfaceDescriptions/%d" % (at, k)
            if not isinstance(iface, dict):
                return (ia, "InterfaceDescription must be an object")
            if sum(1 for key in ("ipv4Addr", "ipv6Addr", "fqdn") if key in iface) != 1:
                return (ia, "oneOf: exactly one of ipv4Addr, ipv6Addr, fqdn")
            port = iface.get("port", 0)
            if not isinstance(port, int) or not 0 <= port <= 65535:
                return (ia + "/port", "Port is an integer 0-65535")
        if isinstance(p.get("interfaceDescriptions"), list) and not p["interfaceDescriptions"]:
            return (at + "/interfaceDescriptions", "minItems 1")
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log_path = ""
    keys_path = ""
    invokers_path = ""

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj=None, headers=None, content_type="application/json"):
        body = b"" if obj is None else json.dumps(obj).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body:
            self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with LOCK, open(self.log_path, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "body": self.request_body, "status": status}) + "\n")

    def problem(self, status, detail, pointer=None):
        p = {"title": detail, "status": status, "cause": "INVALID_MSG_FORMAT", "detail": detail}
        if pointer is not None:
            p["invalidParams"] = [{"param": pointer, "reason": detail}]
        self.reply(status, p, content_type="application/problem+json")

    def read_body(self):
        length = int(self.headers.get("content-length") or 0)
        self.request_body = self.rfile.read(length).decode("utf-8", "replace") if length else ""

    def do_GET(self):
        self.read_body()
        if self.path == "/keys":
            with open(self.keys_path) as f:
                self.reply(200, json.load(f))
            return
        m = INVOKER.match(self.path)
        if m:
            query = urllib.parse.parse_qs((m.group(2) or "?")[1:])
            for name in ("authenticationInfo", "authorizationInfo"):
                if any(v not in ("true", "false") for v in query.get(name, [])):
                    self.problem(400, name + " must be true or false", name)
                    return
            invoker = urllib.parse.unquote(m.group(1))
            with open(self.invokers_path) as f:
                invokers = json.load(f)
            if invoker not in invokers:
                self.problem(404, "no trusted invoker " + invoker)
                return
            self.reply(200, invokers[invoker])
            return
        m = COLLECTION.match(self.path)
        if m:
            with LOCK:
                items = [dict(d, apiId=i) for (apf, i), d in PUBLISHED.items() if apf == m.group(1)]
            self.reply(200, items)
            return
        self.problem(404, "no such resource")

    def write_description(self, creating, apf, api_id):
        try:
            d = json.loads(self.request_body)
        except ValueError:
            self.problem(400, "body is not JSON")
            return
        bad = check_description(d, creating)
        if bad:
            self.problem(400, bad[1], bad[0])
            return
        with LOCK:
            if not creating and (apf, api_id) not in PUBLISHED:
                unknown = True
            else:
                unknown = False
                PUBLISHED[(apf, api_id)] = d
        if unknown:
            self.problem(404, "no published API " + api_id)
            return
        location = "https://%s/published-apis/v1/%s/service-apis/%s" % (
            self.headers.get("host", "ccf"), apf, api_id)
        self.reply(201 if creating else 200, dict(d, apiId=api_id),
                   {"location": location} if creating else None)

    def revoke(self, invoker):
        try:
            n = json.loads(self.request_body)
        except ValueError:
            self.problem(400, "body is not JSON")
            return
        bad = check_notification(n, invoker)
        if bad:
            self.problem(400, bad[1], bad[0])
            return
        with LOCK:
            with open(self.invokers_path) as f:
                invokers = json.load(f)
            if invoker in invokers:
                entry = invokers[invoker]
                entry["securityInfo"] = [i for i in entry.get("securityInfo", [])
                                         if i.get("apiId") and i["apiId"] not in n["apiIds"]]
                with open(self.invokers_path + ".tmp", "w") as f:
                    json.dump(invokers, f)
                os.replace(self.invokers_path + ".tmp", self.invokers_path)
        if invoker not in invokers:
            self.problem(404, "no trusted invoker " + invoker)
            return
        self.reply(204)

    def do_POST(self):
        self.read_body()
        m = REVOKE.match(self.path)
        if m:
            self.revoke(urllib.parse.unquote(m.group(1)))
            return
        m = COLLECTION.match(self.path)
        if not m:
            self.problem(404, "no such resource")
            return
        self.write_description(True, m.group(1), uuid.uuid4().hex)

    def do_PUT(self):
        self.read_body()
        m = ITEM.match(self.path)
        if not m:
            self.problem(404, "no such resource")
            return
        self.write_description(False, m.group(1), m.group(2))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port_file")
    p.add_argument("log_file")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--keys", default="")
    p.add_argument("--invokers", default="")
    a = p.parse_args()
    Handler.log_path = a.log_file
    Handler.keys_path = a.keys
    Handler.invokers_path = a.invokers
    return serve(Handler, a.port_file, a.port, a.tls)


if __name__ == "__main__":
    sys.exit(main())
