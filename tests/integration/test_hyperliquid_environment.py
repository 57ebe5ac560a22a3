"""The Hyperliquid adapter's HTTP session (http_session.py, urllib3 under the SDK): it reads the
proxy and CA-bundle variables once, when it is built, instead of on every request (requests'
default), still honours them, and fails as requests would, so the transport's error handling holds."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import certifi
import pytest
import requests

from adapters.hyperliquid.http_session import LeanSession
from application.ports.exchange import ExchangeUnavailable
from tests.contract.hyperliquid_harness import HyperliquidHarness

DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens there
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
                   "all_proxy", "no_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def harness() -> Iterator[HyperliquidHarness]:
    built = HyperliquidHarness(timeout_s=0.5, retries=0)
    yield built
    built.close()


def test_a_proxy_set_in_the_environment_is_used(harness: HyperliquidHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", DEAD_PROXY)
    with pytest.raises(ExchangeUnavailable, match=r"ProxyError|ConnectionError"):
        harness.exchange().subaccount(1).account()


def test_no_proxy_is_honoured_and_the_environment_is_read_once(harness: HyperliquidHarness,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", DEAD_PROXY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    sub = harness.exchange().subaccount(1)
    assert sub.account().account_value > 0
    monkeypatch.delenv("NO_PROXY")  # read per request, this would now send every call to the dead proxy
    assert sub.mid_price("BTC") > 0
    assert sub.account().account_value > 0


def test_the_session_pins_the_proxy_and_the_ca_bundle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    session = LeanSession("https://api.hyperliquid.xyz")
    assert session.proxy == "http://proxy.internal:3128"
    assert session.ca_bundle == str(bundle)
    monkeypatch.setenv("NO_PROXY", "api.hyperliquid.xyz")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    direct = LeanSession("https://api.hyperliquid.xyz")
    assert direct.proxy is None
    assert direct.ca_bundle == certifi.where()


class _Replies(BaseHTTPRequestHandler):
    """Keep-alive (HTTP/1.1). POST /json answers JSON, /html a body that is not JSON, /slow nothing
    for a second, /drop JSON and then closes the connection without saying so. Notes the client
    port of every request, so a test sees which connection carried it."""

    protocol_version = "HTTP/1.1"
    ports: list[int] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.ports.append(self.client_address[1])
        if self.path == "/slow":
            threading.Event().wait(1.0)
        json_body = self.path in ("/json", "/drop")
        body = b'{"echo": "' + self.headers["Content-Type"].encode() + b'"}' if json_body else b"<html>"
        self.send_response(200 if self.path != "/html" else 502)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = self.path == "/drop"

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    _Replies.ports = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Replies)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_session_answers_as_requests_does(local_server: str) -> None:
    session = LeanSession(local_server)
    reply = session.post(local_server + "/json", json={"type": "allMids"}, timeout=1.0)
    assert (reply.status_code, reply.json()) == (200, {"echo": "application/json"})
    again = session.post(local_server + "/json", json=None, timeout=1.0)
    assert again.json() == {"echo": "application/json"}
    assert _Replies.ports[0] == _Replies.ports[1], "the kept connection is reused"
    broken = session.post(local_server + "/html", json={}, timeout=1.0)
    assert (broken.status_code, broken.text) == (502, "<html>")
    with pytest.raises(ValueError):
        broken.json()
    with pytest.raises(ValueError, match="JSON compliant"):
        session.post(local_server + "/json", json={"px": float("nan")}, timeout=1.0)
    with pytest.raises(requests.ConnectionError, match="its venue only"):
        session.post("http://example.invalid/info", json={}, timeout=1.0)
    session.close()


def test_a_connection_the_venue_closed_while_idle_is_replaced_before_use(local_server: str) -> None:
    session = LeanSession(local_server)
    assert session.post(local_server + "/drop", json={}, timeout=1.0).json() == {"echo": "application/json"}
    threading.Event().wait(0.05)  # the server has closed it by now; the client was not told
    assert session.post(local_server + "/json", json={}, timeout=1.0).json() == {"echo": "application/json"}
    assert _Replies.ports[0] != _Replies.ports[1]
    session.close()


def test_failures_are_raised_as_requests_raises_them(local_server: str) -> None:
    session = LeanSession(local_server)
    with pytest.raises(requests.Timeout, match="timed out"):
        session.post(local_server + "/slow", json={}, timeout=0.2)
    assert session.post(local_server + "/json", json={}, timeout=1.0).json() == {"echo": "application/json"}
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{unused.getsockname()[1]}"
    with pytest.raises(requests.ConnectionError, match="ConnectionRefused") as refused:
        LeanSession(closed).post(closed + "/json", json={}, timeout=0.5)
    assert not isinstance(refused.value, requests.Timeout)


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with the `cryptography` package."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class _Gzipped(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        import gzip

        self.rfile.read(int(self.headers["Content-Length"]))
        body = gzip.compress(b'{"BTC": "60000.0"}')
        self.send_response(200)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def test_tls_is_verified_against_the_bundle_and_gzip_bodies_are_decoded(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import ssl

    cert_file, key_file = _self_signed(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gzipped)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"https://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(requests.ConnectionError, match=r"SSL|CERTIFICATE"):
            LeanSession(url).post(url + "/info", json={"type": "allMids"}, timeout=2.0)  # certifi's roots only
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert_file))
        trusted = LeanSession(url)
        assert trusted.post(url + "/info", json={"type": "allMids"}, timeout=2.0).json() == {"BTC": "60000.0"}
        trusted.close()
    finally:
        server.shutdown()
        server.server_close()
