"""Contract tests of the gateway's Leshan-compatible REST API, against a real
cluster (redis-server, a node, emulated devices, the gateway: see
gateway_cluster.py): every route, its status codes and JSON shapes, and its
errors (unknown client, invalid requests, malformed JSON, oversized bodies,
device timeouts, Redis loss)."""
import http.client
import json
import os
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from gateway_cluster import GatewayCluster  # noqa: E402

REGISTRATION_FIELDS = {
    "endpoint", "registrationId", "registrationDate", "lastUpdate", "address", "lwM2mVersion",
    "lifetime", "bindingMode", "rootPath", "objectLinks", "secure",
    "additionalRegistrationAttributes", "queuemode", "availableInstances"}


class RestContract(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = GatewayCluster(devices=3).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.cluster.__exit__(None, None, None)

    def call(self, method, path, body=None, headers=None, auth=True):
        status, hdrs, raw = self.cluster.request(method, path, body=body, headers=headers, auth=auth)
        return status, hdrs, raw

    def call_json(self, method, path, body=None, headers=None, expect=200):
        status, _, raw = self.call(method, path, body, headers)
        self.assertEqual(status, expect, raw[:300])
        return json.loads(raw)

    def assert_response(self, r, status, success=True):
        self.assertEqual(r["status"], status)
        self.assertIs(r["valid"], True)
        self.assertIs(r["success"], success)
        self.assertIs(r["failure"], not success)

    # ---- clients -----------------------------------------------------------
    def test_list_and_get_clients(self):
        clients = self.call_json("GET", "/api/clients")
        self.assertEqual(sorted(c["endpoint"] for c in clients), ["dev-0", "dev-1", "dev-2"])
        for c in clients:
            self.assertLessEqual(REGISTRATION_FIELDS, set(c), c)
            host, port = c["address"].rsplit(":", 1)
            self.assertEqual(host, "127.0.0.1")
            self.assertTrue(port.isdigit())
            self.assertIn("3313", c["availableInstances"])
            self.assertTrue(all({"url", "attributes"} == set(l) for l in c["objectLinks"]))
        one = self.call_json("GET", "/api/clients/dev-1")
        self.assertEqual(one["endpoint"], "dev-1")

    def test_unknown_client_is_400(self):
        for method, path in [("GET", "/api/clients/nobody"), ("GET", "/api/clients/nobody/3/0"),
                             ("POST", "/api/clients/nobody/3/0/4")]:
            status, _, raw = self.call(method, path)
            self.assertEqual(status, 400, path)
            self.assertIn(b"No registered client with id 'nobody'", raw)

    # ---- device management -------------------------------------------------
    def test_read_in_every_format(self):
        for fmt in ["", "?format=TLV", "?format=JSON", "?format=SENML_JSON", "?format=senml-json"]:
            r = self.call_json("GET", "/api/clients/dev-0/3313/0" + fmt)
            self.assert_response(r, "CONTENT(69)")
            self.assertEqual(r["content"]["kind"], "instance")
            ids = {res["id"] for res in r["content"]["resources"]}
            self.assertLessEqual({5702, 5703, 5704}, ids, fmt)
        status, headers, _ = self.call("GET", "/api/clients/dev-0/3313/0/5702")
        self.assertRegex(headers.get("Server-Timing", ""), r"^bus;dur=\d+\.\d{3}$")
        r = self.call_json("GET", "/api/clients/dev-0/3313/0/5702?format=TEXT&timeout=3")
        self.assert_response(r, "CONTENT(69)")
        self.assertEqual(r["content"]["kind"], "singleResource")
        self.assertEqual(r["content"]["type"], "FLOAT")
        float(r["content"]["value"])  # a number, as a string
        obj = self.call_json("GET", "/api/clients/dev-0/3")
        self.assertEqual(obj["content"]["kind"], "obj")

    def test_read_errors(self):
        status, _, raw = self.call("GET", "/api/clients/dev-0/3313/0?format=XML")
        self.assertEqual(status, 400)
        self.assertIn(b"unknown content format", raw)
        status, _, _ = self.call("GET", "/api/clients/dev-0/3313/0?timeout=-1")
        self.assertEqual(status, 400)
        status, _, _ = self.call("GET", "/api/clients/dev-0/abc")
        self.assertEqual(status, 400)
        # The device answers 4.04: a Leshan response with failure, not an HTTP error.
        r = self.call_json("GET", "/api/clients/dev-0/3313/7")
        self.assert_response(r, "NOT_FOUND(132)", success=False)

    def test_discover(self):
        r = self.call_json("GET", "/api/clients/dev-0/3313/0/discover")
        self.assert_response(r, "CONTENT(69)")
        urls = [l["url"] for l in r["objectLinks"]]
        self.assertIn("/3313/0/5702", urls)

    def test_write_text_json_and_update(self):
        r = self.call_json("PUT", "/api/clients/dev-1/3/0/15", body="Europe/Paris",
                           headers={"Content-Type": "text/plain"})
        self.assert_response(r, "CHANGED(68)")
        read = self.call_json("GET", "/api/clients/dev-1/3/0/15")
        self.assertEqual(read["content"]["value"], "Europe/Paris")
        r = self.call_json("PUT", "/api/clients/dev-1/3/0/15",
                           body={"kind": "singleResource", "id": 15, "type": "STRING",
                                 "value": "UTC"})
        self.assert_response(r, "CHANGED(68)")
        r = self.call_json("PUT", "/api/clients/dev-1/3/0?replace=false",
                           body={"kind": "instance", "id": 0, "resources": [
                               {"kind": "singleResource", "id": 15, "value": "Asia/Tokyo"}]})
        self.assert_response(r, "CHANGED(68)")
        self.assertEqual(self.call_json("GET", "/api/clients/dev-1/3/0/15")["content"]["value"],
                         "Asia/Tokyo")
        # Read-only resource: the device refuses.
        r = self.call_json("PUT", "/api/clients/dev-1/3313/0/5702", body="1.5",
                           headers={"Content-Type": "text/plain"})
        self.assertIs(r["failure"], True)

    def test_write_errors(self):
        for body, ctype, why in [("{bad", "application/json", b"not JSON"),
                                 ({"id": 15, "value": 7}, None, b"expected a string"),
                                 ("abc", "text/plain", b"not a number")]:
            path = "/api/clients/dev-1/3/0/15" if why != b"not a number" else \
                "/api/clients/dev-1/3313/0/5702"
            headers = {"Content-Type": ctype} if ctype else None
            status, _, raw = self.call("PUT", path, body=body, headers=headers)
            self.assertEqual(status, 400, raw)
            self.assertIn(why, raw)
        status, _, _ = self.call("PUT", "/api/clients/dev-1/3")
        self.assertEqual(status, 400)
        # An oversized body is refused from its Content-Length, before it is
        # read (the client may still be sending: only the head goes here).
        with socket.create_connection(("127.0.0.1", self.cluster.http_port), timeout=10) as s:
            s.sendall(("PUT /api/clients/dev-1/3/0/15 HTTP/1.1\r\nHost: x\r\n"
                       "Authorization: Bearer %s\r\nContent-Type: text/plain\r\n"
                       "Content-Length: %d\r\n\r\n" % (self.cluster.token, 1 << 21)).encode())
            answer = s.recv(4096)
        self.assertTrue(answer.startswith(b"HTTP/1.1 413 "), answer[:100])

    def test_write_attributes(self):
        r = self.call_json("PUT", "/api/clients/dev-2/3313/0/5702/attributes?pmin=1&pmax=10&st=0.5")
        self.assert_response(r, "CHANGED(68)")
        status, _, raw = self.call("PUT", "/api/clients/dev-2/3313/0/5702/attributes?pmin=x")
        self.assertEqual(status, 400)
        status, _, raw = self.call("PUT", "/api/clients/dev-2/3313/0/5702/attributes?foo=1")
        self.assertEqual(status, 400)
        self.assertIn(b"unknown attribute", raw)

    def test_execute(self):
        r = self.call_json("POST", "/api/clients/dev-2/3/0/4")
        self.assert_response(r, "CHANGED(68)")
        r = self.call_json("POST", "/api/clients/dev-2/3/0/15")  # not executable
        self.assertIs(r["failure"], True)

    def test_create_and_delete(self):
        # (The range, not a value: the device's sensor walks its values every 50 ms.)
        r = self.call_json("POST", "/api/clients/dev-2/3313",
                           body={"kind": "instance", "id": 4, "resources": [
                               {"kind": "singleResource", "id": 5603, "value": "-5"}]})
        self.assert_response(r, "CREATED(65)")
        self.assertEqual(r["location"], "/3313/4")
        read = self.call_json("GET", "/api/clients/dev-2/3313/4/5603")
        self.assertEqual(float(read["content"]["value"]), -5.0)
        r = self.call_json("POST", "/api/clients/dev-2/3313/5", body={"resources": []})
        self.assert_response(r, "CREATED(65)")
        self.assert_response(self.call_json("DELETE", "/api/clients/dev-2/3313/4"), "DELETED(66)")
        self.assert_response(self.call_json("DELETE", "/api/clients/dev-2/3313/5"), "DELETED(66)")
        r = self.call_json("DELETE", "/api/clients/dev-2/3313/4")
        self.assertIs(r["failure"], True)
        status, _, raw = self.call("POST", "/api/clients/dev-2/3313", body={"resources": []})
        self.assertEqual(status, 400)
        self.assertIn(b"instance id", raw)

    def test_observe_and_cancel(self):
        r = self.call_json("POST", "/api/clients/dev-0/3313/0/5703/observe")
        self.assert_response(r, "CONTENT(69)")
        self.assertEqual(r["content"]["id"], 5703)
        r = self.call_json("DELETE", "/api/clients/dev-0/3313/0/5703/observe")
        self.assertEqual(r["status"], "CANCELLED")
        status, _, raw = self.call("DELETE", "/api/clients/dev-0/3313/0/5703/observe")
        self.assertEqual(status, 404, raw)
        self.assertIn(b"no observation", raw)

    def test_composite_operations(self):
        # Read-Composite: every path asked for, Leshan's node shapes; a path
        # the device has not got is null.
        r = self.call_json("GET", "/api/clients/dev-2/composite?paths=/3/0/9,/3313/0")
        self.assert_response(r, "CONTENT(69)")
        self.assertEqual(list(r["content"]), ["/3/0/9", "/3313/0"])
        self.assertEqual(r["content"]["/3/0/9"]["kind"], "singleResource")
        self.assertEqual(r["content"]["/3313/0"]["kind"], "instance")
        r = self.call_json("GET", "/api/clients/dev-2/composite?paths=/3/0/0,/3313/7"
                                  "&format=SENML_CBOR")
        self.assert_response(r, "CONTENT(69)")
        self.assertEqual(r["content"]["/3/0/0"]["value"], "fogm2m")
        self.assertIsNone(r["content"]["/3313/7"])
        # Write-Composite: Leshan nodes or plain values by path.
        r = self.call_json("PUT", "/api/clients/dev-2/composite",
                           body={"/3/0/15": {"kind": "singleResource", "id": 15, "type": "STRING",
                                             "value": "Europe/Paris"},
                                 "/3/0/14": "+01:00"})
        self.assert_response(r, "CHANGED(68)")
        r = self.call_json("GET", "/api/clients/dev-2/composite?paths=/3/0/14,/3/0/15")
        self.assertEqual(r["content"]["/3/0/14"]["value"], "+01:00")
        self.assertEqual(r["content"]["/3/0/15"]["value"], "Europe/Paris")
        r = self.call_json("PUT", "/api/clients/dev-2/composite", body={"/3/0/0": "someone"})
        self.assertIs(r["failure"], True)  # read-only: the device refuses

        # Observe-Composite: its notifications arrive as SSE NOTIFICATION
        # events of kind "composite" with every path.
        events = http.client.HTTPConnection("127.0.0.1", self.cluster.http_port, timeout=10)
        events.request("GET", "/api/event?ep=dev-2",
                       headers={"Authorization": "Bearer " + self.cluster.token})
        stream = events.getresponse()
        self.assertEqual(stream.status, 200)
        try:
            r = self.call_json("POST", "/api/clients/dev-2/composite/observe"
                                       "?paths=/3/0/15,/3/0/14")
            self.assert_response(r, "CONTENT(69)")
            self.assertEqual(r["content"]["/3/0/15"]["value"], "Europe/Paris")
            self.call_json("PUT", "/api/clients/dev-2/composite", body={"/3/0/15": "UTC"})
            notification = None
            deadline = time.time() + 10
            event = None
            while notification is None and time.time() < deadline:
                line = stream.readline().decode().strip()
                if line.startswith("event:"):
                    event = line[len("event:"):].strip()
                elif line.startswith("data:") and event == "NOTIFICATION":
                    data = json.loads(line[len("data:"):])
                    if data.get("kind") == "composite":
                        notification = data
            self.assertIsNotNone(notification, "no composite NOTIFICATION event")
            self.assertEqual(notification["ep"], "dev-2")
            self.assertEqual(notification["paths"], ["/3/0/15", "/3/0/14"])
            self.assertEqual(notification["val"]["/3/0/15"]["value"], "UTC")
            self.assertEqual(notification["val"]["/3/0/14"]["value"], "+01:00")
        finally:
            events.close()
        r = self.call_json("DELETE", "/api/clients/dev-2/composite/observe?paths=/3/0/14,/3/0/15")
        self.assertEqual(r["status"], "CANCELLED")
        status, _, raw = self.call("DELETE", "/api/clients/dev-2/composite/observe"
                                             "?paths=/3/0/14,/3/0/15")
        self.assertEqual(status, 404, raw)
        self.assertIn(b"no observation", raw)

        # Invalid requests: 400 before the bus.
        for method, path, body, why in [
                ("GET", "/api/clients/dev-2/composite", None, b"paths"),
                ("GET", "/api/clients/dev-2/composite?paths=/3/x", None, b"invalid LwM2M path"),
                ("GET", "/api/clients/dev-2/composite?paths=/3/0/9&format=TLV", None,
                 b"SENML_JSON or SENML_CBOR"),
                ("PUT", "/api/clients/dev-2/composite", "{bad", b"not JSON"),
                ("PUT", "/api/clients/dev-2/composite", {"/3/0": "x"}, b"resource path"),
                ("PUT", "/api/clients/dev-2/composite", {"/3/0/15": 7}, b"expected a string")]:
            status, _, raw = self.call(method, path, body=body,
                                       headers={"Content-Type": "application/json"})
            self.assertEqual(status, 400, (path, raw))
            self.assertIn(why, raw)
        status, _, _ = self.call("POST", "/api/clients/dev-2/composite?paths=/3/0/9")
        self.assertEqual(status, 405)

    # ---- security, models, events, metrics ---------------------------------
    def test_security_keys_are_masked(self):
        entry = {"endpoint": "psk-dev", "tls": {"mode": "psk", "details": {
            "identity": "psk-id", "key": "000102030405060708090a0b0c0d0e0f"}}}
        status, _, raw = self.call("PUT", "/api/security/clients", body=entry)
        self.assertEqual(status, 200, raw)
        listed = self.call_json("GET", "/api/security/clients")
        mine = [e for e in listed if e["endpoint"] == "psk-dev"]
        self.assertEqual(mine, [{"endpoint": "psk-dev", "tls": {"mode": "psk", "details": {
            "identity": "psk-id", "key": "********"}}}])
        self.assertNotIn("0001020304", json.dumps(listed))
        # Leshan 1.x shape too; an identity already taken is refused.
        status, _, raw = self.call("PUT", "/api/security/clients", body={
            "endpoint": "other", "psk": {"identity": "psk-id", "key": "aa"}})
        self.assertEqual(status, 400, raw)
        for bad in ["{", {"endpoint": "x"}, {"endpoint": "x", "psk": {"identity": "i", "key": "zz"}},
                    {"endpoint": "x", "tls": {"mode": "x509"}}]:
            status, _, _ = self.call("PUT", "/api/security/clients", body=bad,
                                     headers={"Content-Type": "application/json"})
            self.assertEqual(status, 400, bad)
        status, _, _ = self.call("DELETE", "/api/security/clients/psk-dev")
        self.assertEqual(status, 200)
        status, _, _ = self.call("DELETE", "/api/security/clients/psk-dev")
        self.assertEqual(status, 404)
        for name in ["gateway", "node1"]:
            self.assertNotIn("000102030405060708090a0b0c0d0e0f", self.cluster.log(name))

    def test_object_specs(self):
        specs = self.call_json("GET", "/api/objectspecs")
        accel = [o for o in specs if o["id"] == 3313][0]
        self.assertEqual(accel["instancetype"], "multiple")
        x = [r for r in accel["resourcedefs"] if r["id"] == 5702][0]
        self.assertEqual(x["type"], "FLOAT")
        self.assertIn("R", x["operations"])

    def test_auth_and_routing_errors(self):
        for method, path in [("GET", "/api/clients"), ("GET", "/api/event"), ("GET", "/metrics"),
                             ("GET", "/api/security/clients")]:
            status, headers, _ = self.call(method, path, auth=False)
            self.assertEqual(status, 401, path)
            self.assertEqual(headers.get("WWW-Authenticate"), 'Bearer realm="fogm2m"')
        status, _, _ = self.call("GET", "/api/clients", auth=False,
                                 headers={"Authorization": "Bearer wrong-token-0000000000"})
        self.assertEqual(status, 401)
        status, _, _ = self.call("GET", "/api/clients", auth=False,
                                 headers={"Cookie": "fogm2m_token=" + self.cluster.token})
        self.assertEqual(status, 200)
        status, _, raw = self.call("GET", "/", auth=False)  # the web UI asks for the token itself
        self.assertEqual(status, 200)
        self.assertIn(b"<!doctype html", raw.lower())
        self.assertEqual(self.call("GET", "/api/nothing")[0], 404)
        self.assertEqual(self.call("PATCH", "/api/clients/dev-0/3/0")[0], 405)
        self.assertEqual(self.call("GET", "/ws")[0], 426)

    def test_metrics(self):
        self.call_json("GET", "/api/clients/dev-0/3313/0/5702")
        status, headers, raw = self.call("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        text = raw.decode()
        self.assertRegex(text, r'fogm2m_gateway_http_requests_total\{code="2xx",route="read"\} \d+')
        self.assertIn('fogm2m_gateway_http_request_duration_seconds_bucket{route="read",le="+Inf"}',
                      text)
        self.assertIn("fogm2m_gateway_registrations 3", text)
        self.assertNotIn("dev-0", text)  # no per-device labels


class DeviceAndRedisFaults(unittest.TestCase):
    """504 when a device does not answer in time; 503 while Redis is gone."""

    def test_device_timeout_is_504(self):
        # A wait longer than the connection's idle timeout still gets its answer.
        with GatewayCluster(devices=1, gateway_args=["--idle-timeout", "1"]) as c:
            c.kill("fleet", signal.SIGSTOP)
            try:
                start = time.time()
                status, _, raw = c.request("GET", "/api/clients/dev-0/3313/0/5702?timeout=1.5")
                self.assertEqual(status, 504, raw)
                self.assertLess(time.time() - start, 4)
            finally:
                c.kill("fleet", signal.SIGCONT)

    def test_redis_loss_is_503_then_served_again(self):
        with GatewayCluster(devices=1) as c:
            c.kill("redis", signal.SIGSTOP)
            try:
                time.sleep(2.5)  # the links notice a silent server (command timeout 2 s)
                status, _, raw = c.request("GET", "/api/clients/dev-0/3313/0/5702?timeout=1")
                self.assertIn(status, (503, 504), raw)
            finally:
                c.kill("redis", signal.SIGCONT)
            c.wait_for(lambda: c.request("GET", "/api/clients/dev-0/3313/0/5702")[0] == 200,
                       "reads served again", timeout=15)


if __name__ == "__main__":
    unittest.main()
