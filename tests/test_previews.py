"""Link previews (essaim/content/previews.py) against real local servers: SECURITY.md cases
22 (SSRF corpus, pinned address), 23 (no cookie, Referer or identity sent) and 24 (bounds).

The page server listens on 127.0.0.5:P, which the tests allow through
PREVIEW_ALLOWED_NETWORKS. A recording listener takes 127.0.0.1:P, the same port: a
connection that escapes the checks (a loopback variant, a redirect, a second resolution of a
rebinding name) lands there and is counted. The injected resolver is the only seam.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from essaim.content.previews import (
    USER_AGENT,
    Preview,
    PreviewRefused,
    fetch_preview,
    is_public_address,
)

PAGE_HOST = "127.0.0.5"
LISTENER_HOST = "127.0.0.1"
UNSPECIFIED = "0.0.0.0"  # noqa: S104 (an address to refuse, not to bind)
PROBE_SOURCE = "127.0.0.9"  # our own barrier connections to the listener come from here
# Reasons that are given before any connection is attempted.
BEFORE_CONNECT = {
    "bad url",
    "bad scheme",
    "userinfo not allowed",
    "bad host",
    "port not allowed",
    "blocked address",
}

OG_PAGE = b"""<!doctype html><html><head>
<title>Plain title</title>
<meta property="og:title" content="Essaim &#8212; le r&eacute;seau">
<meta property="og:description" content="Where teams   talk.">
<meta property="og:site_name" content="Essaim">
<meta property="og:image" content="/static/card.png">
</head><body><p>Hello</p></body></html>"""

TITLE_PAGE = b"""<html><head><title>  Only a
 title  </title><meta name="description" content="A description."></head></html>"""

EVIL_PAGE = """<html><head><title>not this one</title>
<meta property="og:title"
 content="Tom &amp; Jerry &lt;script&gt;alert(1)&lt;/script&gt; &#x202E;evil">
<meta property="og:description"
 content="<b>bold</b>\x07 line1\n\n   line2 \u2066x\u2069&nbsp;end\u200b">
<meta property="og:site_name" content="{}">
<meta property="og:image" content="javascript:alert(1)">
<script>document.title = "<title>not me</title>"</script>
</head></html>""".format("S" * 500).encode()

SCRIPT_TITLE_PAGE = b"<html><head><title>Hello <script>alert(1)</script>world</title></head>"


# --- Servers ------------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    server: PageServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send(
        self, body: bytes, content_type: str = "text/html; charset=utf-8", **headers: str
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self.server.requests.append((self.path, dict(self.headers.items())))
        parts = urlsplit(self.path)
        query = {
            key: values[0] for key, values in parse_qs(parts.query, keep_blank_values=True).items()
        }
        route = parts.path
        if route == "/og":
            self.send(OG_PAGE)
        elif route == "/title":
            self.send(TITLE_PAGE)
        elif route == "/evil":
            self.send(EVIL_PAGE)
        elif route == "/script-title":
            self.send(SCRIPT_TITLE_PAGE)
        elif route == "/image":
            src = query["src"].replace('"', "&quot;")
            self.send(f'<title>Picture</title><meta property="og:image" content="{src}">'.encode())
        elif route == "/latin1":
            self.send("<title>Café</title>".encode("latin-1"), "text/html; charset=iso-8859-1")
        elif route == "/meta-charset":
            body = '<meta charset="windows-1252"><title>Œuvre</title>'.encode("cp1252")
            self.send(body, "text/html")
        elif route == "/xhtml":
            self.send(b"<title>XHTML</title>", "application/xhtml+xml")
        elif route == "/json":
            self.send(b'{"title": "no"}', "application/json")
        elif route == "/no-type":
            self.send(b"<title>no type</title>", "")
        elif route == "/gzip":
            self.send(b"\x1f\x8b\x08\x00", "text/html", Content_Encoding="gzip")
        elif route == "/missing":
            self.send_error(404)
        elif route == "/empty":
            self.send(b"<html><body>nothing to see</body></html>")
        elif route == "/endless":
            self.endless(b"<html><head><title>Endless</title></head><body>")
        elif route == "/endless-junk":
            self.endless(b"")
        elif route == "/parser-bomb":  # quadratic in close() without the CVE-2025-6069 fix
            self.send(b"<title>Bomb</title>" + b"<a" * 250_000)
        elif route == "/slow":
            self.dribble(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<title>x</title>", 0.5)
        elif route == "/slow-body":
            self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n")
            self.dribble(b"<title>slow</title>" * 100, 0.1)
        elif route == "/redirect":
            self.redirect(query["to"])
        elif route == "/loop":
            self.redirect("/loop")
        elif route == "/chain":
            hops = int(query["n"])
            self.redirect(f"/chain?n={hops - 1}" if hops > 1 else "/og")
        else:
            self.send_error(404)

    def endless(self, head: bytes) -> None:
        """A "1 GiB" body that never ends: the client has to stop reading."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(1 << 30))
        self.end_headers()
        self.wfile.write(head)
        chunk = b"x" * 65536
        while True:
            self.wfile.write(chunk)

    def dribble(self, data: bytes, pause: float) -> None:
        for byte in data:
            self.wfile.write(bytes([byte]))
            time.sleep(pause)


class PageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, Handler)
        self.requests: list[tuple[str, dict[str, str]]] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up on endless or slow pages are the point


class Listener:
    """Counts TCP connections to 127.0.0.1:port. ``hits()`` first sends a barrier
    connection from PROBE_SOURCE and waits for it: connections are accepted in order, so
    every earlier one has been counted by then."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock = socket.create_server((LISTENER_HOST, port), backlog=128)
        self.count = 0
        self._barrier = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            conn.close()
            if peer[0] == PROBE_SOURCE:
                self._barrier.set()
            else:
                self.count += 1

    def hits(self) -> int:
        self._barrier.clear()
        probe = socket.socket()
        probe.bind((PROBE_SOURCE, 0))
        probe.connect((LISTENER_HOST, self.port))
        probe.close()
        assert self._barrier.wait(5)
        return self.count


@dataclass
class Net:
    port: int
    server: PageServer
    listener: Listener
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str, host: str = PAGE_HOST) -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture(scope="module")
def net() -> Iterator[Net]:
    for _attempt in range(50):
        server = PageServer((PAGE_HOST, 0))
        port = server.server_address[1]
        try:
            listener = Listener(port)
        except OSError:
            server.server_close()
            continue
        break
    else:
        pytest.fail("no port free on both 127.0.0.5 and 127.0.0.1")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Net(port, server, listener, server.requests)
    server.shutdown()
    server.server_close()
    listener.sock.close()


@pytest.fixture(autouse=True)
def preview_settings(settings: Any, net: Net) -> None:
    settings.PREVIEW_PORTS = (80, 443, net.port)
    settings.PREVIEW_ALLOWED_NETWORKS = (f"{PAGE_HOST}/32",)
    net.listener.hits()  # let earlier connections be counted, then start from zero
    net.listener.count = 0


class Resolver:
    """Answers one list of addresses per call (the last one repeats) and records calls."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


def refused(url: str, resolve: Callable[[str, int], list[str]] | None = None) -> str:
    with pytest.raises(PreviewRefused) as caught:
        fetch_preview(url, resolve=resolve)
    return caught.value.reason


# --- Pages --------------------------------------------------------------------------------


def test_open_graph_page(net: Net) -> None:
    resolve = Resolver([PAGE_HOST])
    url = f"http://site.test:{net.port}/og#part"
    preview = fetch_preview(url, resolve=resolve)
    assert preview == Preview(
        url=url,
        final_url=f"http://site.test:{net.port}/og",
        title="Essaim — le réseau",
        description="Where teams talk.",
        site_name="Essaim",
        image_url=f"http://site.test:{net.port}/static/card.png",
    )
    assert resolve.calls == [("site.test", net.port)]
    # What the server saw: no cookie, Referer or identity; exactly these headers.
    path, headers = net.requests[-1]
    assert path == "/og"
    assert headers == {
        "Host": f"site.test:{net.port}",
        "User-Agent": USER_AGENT,
        "Accept": "text/html",
        "Accept-Encoding": "identity",
        "Connection": "close",
    }


def test_title_and_site_name_fallbacks(net: Net) -> None:
    preview = fetch_preview(net.url("/title"))
    assert preview.title == "Only a title"
    assert preview.description == "A description."
    assert preview.site_name == PAGE_HOST
    assert preview.image_url == ""


def test_fields_are_plain_text(net: Net) -> None:
    preview = fetch_preview(net.url("/evil"))
    assert preview.title == "Tom & Jerry alert(1) evil"
    assert preview.description == "bold line1 line2 x end"
    assert preview.site_name == "S" * 100
    assert preview.image_url == ""
    for text in (preview.title, preview.description, preview.site_name):
        assert "<" not in text
        assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in text)


def test_script_inside_title_is_dropped(net: Net) -> None:
    title = fetch_preview(net.url("/script-title")).title
    assert title.startswith("Hello")
    assert title.endswith("world")
    assert "<" not in title
    assert "script" not in title


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("/pic.png", "http://127.0.0.5:{port}/pic.png"),
        ("https://cdn.example/a b.png", ""),
        ("https://cdn.example/caf\u00e9.png?x=1", "https://cdn.example/caf%C3%A9.png?x=1"),
        ("https://user:pw@cdn.example/pic.png", ""),
        ("http://10.0.0.1/pic.png", ""),
        ("http://[::1]/pic.png", ""),
        ("http://2130706433/pic.png", ""),
        ("ftp://cdn.example/pic.png", ""),
        ("data:image/png;base64,AAAA", ""),
        ("javascript:alert(1)", ""),
        ("//cdn.example:8443/pic.png", "http://cdn.example:8443/pic.png"),
    ],
)
def test_image_url(net: Net, src: str, expected: str) -> None:
    preview = fetch_preview(net.url("/image?src=" + quote(src)))
    assert preview.title == "Picture"
    assert preview.image_url == expected.format(port=net.port)


@pytest.mark.parametrize(
    ("path", "title"),
    [("/latin1", "Café"), ("/meta-charset", "Œuvre"), ("/xhtml", "XHTML")],
)
def test_charsets_and_xhtml(net: Net, path: str, title: str) -> None:
    assert fetch_preview(net.url(path)).title == title


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/json", "not html"),
        ("/no-type", "not html"),
        ("/gzip", "encoded body"),
        ("/missing", "http status 404"),
        ("/empty", "nothing usable"),
    ],
)
def test_unusable_responses_refused(net: Net, path: str, reason: str) -> None:
    assert refused(net.url(path)) == reason


def test_idna_hostname_is_resolved_and_sent_encoded(net: Net) -> None:
    resolve = Resolver([PAGE_HOST])
    preview = fetch_preview(f"http://Bücher.test:{net.port}/og", resolve=resolve)
    assert resolve.calls == [("xn--bcher-kva.test", net.port)]
    assert net.requests[-1][1]["Host"] == f"xn--bcher-kva.test:{net.port}"
    assert preview.final_url == f"http://xn--bcher-kva.test:{net.port}/og"


# --- Bounds (case 24) ---------------------------------------------------------------------


def test_endless_body_is_cut_at_the_cap(net: Net) -> None:
    start = time.monotonic()
    assert fetch_preview(net.url("/endless")).title == "Endless"
    assert refused(net.url("/endless-junk")) == "nothing usable"
    assert time.monotonic() - start < 3


def test_parser_bomb_is_parsed_in_linear_time(net: Net) -> None:
    start = time.monotonic()
    assert fetch_preview(net.url("/parser-bomb")).title == "Bomb"
    assert time.monotonic() - start < 2


def test_slowloris_is_cut_by_the_total_deadline(net: Net) -> None:
    start = time.monotonic()
    assert refused(net.url("/slow")) == "timeout"  # one byte every 0.5 s: no read times out
    assert 4.5 < time.monotonic() - start < 6


def test_slow_body_is_cut_by_the_total_deadline(net: Net, settings: Any) -> None:
    settings.PREVIEW_TIMEOUT = 1.0
    start = time.monotonic()
    assert refused(net.url("/slow-body")) == "timeout"
    assert time.monotonic() - start < 1.5


def test_slow_resolution_is_cut_by_the_total_deadline(settings: Any) -> None:
    settings.PREVIEW_TIMEOUT = 0.5
    release = threading.Event()

    def hanging(host: str, port: int) -> list[str]:
        release.wait(10)
        return [PAGE_HOST]

    start = time.monotonic()
    try:
        assert refused("http://slow-dns.test/", resolve=hanging) == "timeout"
        assert time.monotonic() - start < 1.5
    finally:
        release.set()


# --- Redirects ----------------------------------------------------------------------------


def test_redirects_are_followed_and_each_hop_resolved(net: Net) -> None:
    resolve = Resolver([PAGE_HOST])
    preview = fetch_preview(f"http://site.test:{net.port}/chain?n=3", resolve=resolve)
    assert preview.final_url == f"http://site.test:{net.port}/og"
    assert preview.title == "Essaim — le réseau"
    assert len(resolve.calls) == 4


def test_redirect_loop_refused(net: Net) -> None:
    before = len(net.requests)
    assert refused(net.url("/loop")) == "too many redirects"
    assert [path for path, _ in net.requests[before:]] == ["/loop"] * 4


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:{port}/",
        "http://localhost:{port}/",
        "//127.0.0.1:{port}/",
        "http://[::1]:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://2130706433:{port}/",
        "http://0x7f.1:{port}/",
        "http://169.254.169.254/latest/meta-data/",
        "http://user:pw@127.0.0.5:{port}/og",
        "http://127.0.0.5:1/og",
        "file:///etc/passwd",
        "gopher://127.0.0.1:{port}/_GET",
        "",
    ],
)
def test_redirect_to_internal_refused(net: Net, location: str) -> None:
    before = len(net.requests)
    target = quote(location.format(port=net.port), safe="")
    reason = refused(net.url(f"/redirect?to={target}"))
    assert reason in BEFORE_CONNECT | {"bad redirect"}
    assert len(net.requests) == before + 1
    assert net.listener.hits() == 0


# --- SSRF corpus (case 22) ----------------------------------------------------------------

# Point the port-bearing ones at the listener ({port}), which the tests allow as a port.
SSRF_CORPUS = [
    # loopback
    "http://127.0.0.1:{port}/",
    "http://127.0.0.1/",
    "https://127.0.0.1:{port}/",
    "http://127.0.0.2:{port}/",
    "http://127.255.255.254:{port}/",
    "http://127.0.0.1.:{port}/",
    "http://localhost:{port}/",
    "http://LOCALHOST:{port}/",
    "http://localhost.:{port}/",
    "http://[::1]:{port}/",
    "http://[0:0:0:0:0:0:0:1]:{port}/",
    # other spellings of 127.0.0.1
    "http://2130706433:{port}/",
    "http://017700000001:{port}/",
    "http://0x7f000001:{port}/",
    "http://0x7f.1:{port}/",
    "http://0x7f.0x0.0x0.0x1:{port}/",
    "http://0177.0.0.1:{port}/",
    "http://0177.0000.0000.0001:{port}/",
    "http://127.000.000.001:{port}/",
    "http://127.1:{port}/",
    "http://127.0.1:{port}/",
    "http://%31%32%37.0.0.1:{port}/",
    "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11:{port}/",
    "http://127\u30020\u30020\u30021:{port}/",
    # IPv6 forms carrying IPv4 loopback or private addresses
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://[::ffff:7f00:1]:{port}/",
    "http://[::127.0.0.1]:{port}/",
    "http://[64:ff9b::7f00:1]:{port}/",
    "http://[64:ff9b::10.0.0.1]:{port}/",
    "http://[2002:7f00:1::]:{port}/",
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]:{port}/",
    "http://[::ffff:a9fe:a9fe]/",
    # unspecified
    "http://0:{port}/",
    "http://0.0.0.0:{port}/",
    "http://[::]:{port}/",
    # RFC 1918, shared, link-local and metadata
    "http://10.0.0.1:{port}/",
    "http://10.255.255.255/",
    "http://172.16.0.1:{port}/",
    "http://172.31.255.254/",
    "http://192.168.0.1:{port}/",
    "http://192.168.1.1/",
    "http://100.64.0.1:{port}/",
    "http://100.127.255.254/",
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.169.254:{port}/",
    "http://[fd00:ec2::254]/",
    "http://[fc00::1]:{port}/",
    "http://[fe80::1]:{port}/",
    "http://[fe80::1%25lo]:{port}/",
    "http://[fec0::1]:{port}/",
    # multicast, broadcast, reserved, documentation, benchmarking
    "http://224.0.0.1:{port}/",
    "http://[ff02::1]:{port}/",
    "http://255.255.255.255:{port}/",
    "http://240.0.0.1/",
    "http://192.0.2.1/",
    "http://198.18.0.1/",
    "http://[2001:db8::1]/",
    # user information and parser confusion
    "http://user@127.0.0.1:{port}/",
    "http://user:pass@127.0.0.5:{port}/og",
    "http://127.0.0.5@127.0.0.1:{port}/",
    "http://127.0.0.1:{port}\\@127.0.0.5/",
    "http://127.0.0.1:{port}:80/",
    " http://127.0.0.1:{port}/",
    "http://127.0.0.1:{port}/\r\nX-Injected: 1",
    "//127.0.0.1:{port}/",
    "http:127.0.0.1:{port}/",
    # other schemes
    "file:///etc/passwd",
    "file://127.0.0.1/etc/passwd",
    "gopher://127.0.0.1:{port}/_GET%20/",
    "ftp://127.0.0.1:{port}/",
    "dict://127.0.0.1:{port}/",
    "ws://127.0.0.1:{port}/",
    "data:text/html,<title>x</title>",
    "javascript:alert(1)",
]


@pytest.mark.parametrize("template", SSRF_CORPUS)
def test_ssrf_corpus_is_refused_before_connecting(net: Net, template: str) -> None:
    before = len(net.requests)
    assert refused(template.format(port=net.port)) in BEFORE_CONNECT
    assert len(net.requests) == before
    assert net.listener.hits() == 0


def test_ssrf_corpus_is_large_enough() -> None:
    assert len(SSRF_CORPUS) >= 50


def test_listener_counts_escapes(net: Net, settings: Any) -> None:
    """The control for the corpus: were loopback allowed, the listener would see it."""
    settings.PREVIEW_ALLOWED_NETWORKS = ("127.0.0.0/8",)
    assert refused(f"http://127.0.0.1:{net.port}/") in {"connection failed", "bad response"}
    assert net.listener.hits() == 1


@pytest.mark.parametrize(
    "template",
    [
        "http://127.0.0.1:{port}/",
        "http://127.0.0.5:{port}/og",
        "http://site.test:{port}/og",
        "https://site.test:{port}/og",
        "http://site.test:8080/og",
    ],
)
def test_only_configured_ports(net: Net, settings: Any, template: str) -> None:
    settings.PREVIEW_PORTS = (80, 443)  # the default
    resolve = Resolver([PAGE_HOST])
    before = len(net.requests)
    assert refused(template.format(port=net.port), resolve) == "port not allowed"
    assert resolve.calls == []
    assert len(net.requests) == before
    assert net.listener.hits() == 0


# --- Resolution ---------------------------------------------------------------------------


def test_dns_rebinding_connects_to_the_pinned_address(net: Net) -> None:
    resolve = Resolver([PAGE_HOST], [LISTENER_HOST])
    preview = fetch_preview(f"http://rebind.test:{net.port}/og", resolve=resolve)
    assert preview.title == "Essaim — le réseau"
    assert resolve.calls == [("rebind.test", net.port)]
    assert net.requests[-1][1]["Host"] == f"rebind.test:{net.port}"
    assert net.listener.hits() == 0


def test_dns_rebinding_across_a_redirect(net: Net) -> None:
    resolve = Resolver([PAGE_HOST], [LISTENER_HOST])
    next_hop = quote(f"http://rebind.test:{net.port}/og", safe="")
    url = f"http://rebind.test:{net.port}/redirect?to={next_hop}"
    assert refused(url, resolve) == "blocked address"
    assert len(resolve.calls) == 2
    assert net.requests[-1][0].startswith("/redirect")
    assert net.listener.hits() == 0


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ([PAGE_HOST, "10.0.0.1"], "blocked address"),
        ([PAGE_HOST, LISTENER_HOST], "blocked address"),
        (["8.8.8.8", "127.0.0.1"], "blocked address"),
        (["2606:4700:4700::1111", "::1"], "blocked address"),
        ([PAGE_HOST, "fe80::1%lo"], "blocked address"),
        ([LISTENER_HOST], "blocked address"),
        (["10.1.2.3"], "blocked address"),
        (["169.254.169.254"], "blocked address"),
        (["::ffff:127.0.0.1"], "blocked address"),
        (["64:ff9b::a9fe:a9fe"], "blocked address"),
        (["fd00::1"], "blocked address"),
        ([UNSPECIFIED], "blocked address"),
        (["100.64.0.1"], "blocked address"),
        (["not an address"], "blocked address"),
        ([], "cannot resolve"),
    ],
)
def test_every_resolved_address_must_be_allowed(net: Net, answer: list[str], reason: str) -> None:
    before = len(net.requests)
    assert refused(f"http://internal.test:{net.port}/og", Resolver(answer)) == reason
    assert len(net.requests) == before
    assert net.listener.hits() == 0


@pytest.mark.parametrize(
    ("ip", "public"),
    [
        ("8.8.8.8", True),
        ("1.1.1.1", True),
        ("2606:4700:4700::1111", True),
        ("64:ff9b::808:808", True),
        ("2002:808:808::1", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        (UNSPECIFIED, False),
        ("0.1.2.3", False),
        ("255.255.255.255", False),
        ("224.0.0.251", False),
        ("240.0.0.1", False),
        ("192.0.2.1", False),
        ("198.51.100.1", False),
        ("203.0.113.1", False),
        ("198.18.0.1", False),
        ("::1", False),
        ("::", False),
        ("::ffff:8.8.8.8", False),
        ("::ffff:127.0.0.1", False),
        ("::127.0.0.1", False),
        ("64:ff9b::7f00:1", False),
        ("64:ff9b::c0a8:101", False),
        ("64:ff9b:1::808:808", False),
        ("2002:7f00:1::1", False),
        ("2002:a00:1::1", False),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),
        ("2001:db8::1", False),
        ("fc00::1", False),
        ("fd12:3456::1", False),
        ("fe80::1", False),
        ("fe80::1%eth0", False),
        ("fec0::1", False),
        ("ff02::1", False),
        ("100::1", False),
        ("2130706433", False),
        ("0x7f000001", False),
        ("localhost", False),
        ("", False),
    ],
)
def test_is_public_address(ip: str, public: bool) -> None:
    assert is_public_address(ip) is public


# --- TLS ----------------------------------------------------------------------------------


@dataclass
class TLSServer:
    port: int
    ca: Path
    names: list[str | None]


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSServer]:
    """An HTTPS page server on 127.0.0.5 with a certificate for secure.test only."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=folder, check=True, capture_output=True)

    key = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    run(
        "req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=CA"
    )
    run("req", *key, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=secure.test")
    (folder / "leaf.ext").write_text(
        "subjectAltName=DNS:secure.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    )
    run(
        *("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key"),
        *("-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext"),
    )
    names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "leaf.pem", folder / "leaf.key")

    def record_sni(_sock: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        names.append(name)

    context.sni_callback = record_sni
    server = PageServer((PAGE_HOST, 0))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield TLSServer(server.server_address[1], folder / "ca.pem", names)
    server.shutdown()
    server.server_close()


def test_https_connects_to_the_pinned_address_with_the_hostname(
    tls_server: TLSServer, settings: Any, monkeypatch: pytest.MonkeyPatch, net: Net
) -> None:
    settings.PREVIEW_PORTS = (tls_server.port,)
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.ca))  # trust the test CA only
    resolve = Resolver([PAGE_HOST], [LISTENER_HOST])
    preview = fetch_preview(f"https://secure.test:{tls_server.port}/og", resolve=resolve)
    assert preview.title == "Essaim — le réseau"
    assert preview.final_url == f"https://secure.test:{tls_server.port}/og"
    assert tls_server.names[-1] == "secure.test"  # SNI
    assert len(resolve.calls) == 1
    assert net.listener.hits() == 0


def test_https_certificate_must_match_the_hostname(
    tls_server: TLSServer, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.PREVIEW_PORTS = (tls_server.port,)
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.ca))
    url = f"https://other.test:{tls_server.port}/og"
    assert refused(url, Resolver([PAGE_HOST])) == "tls error"
    assert tls_server.names[-1] == "other.test"
    # The address itself is not a name the certificate vouches for either.
    assert refused(f"https://{PAGE_HOST}:{tls_server.port}/og") == "tls error"


def test_https_untrusted_certificate_refused(
    tls_server: TLSServer, settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings.PREVIEW_PORTS = (tls_server.port,)
    empty = tmp_path / "none.pem"
    empty.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(empty))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    url = f"https://secure.test:{tls_server.port}/og"
    assert refused(url, Resolver([PAGE_HOST])) == "tls error"


# --- Posts get their link's card through the worker ---------------------------------------


@pytest.mark.django_db
def test_a_posted_link_gets_its_card_and_internal_ones_are_not_fetched(
    net: Net, personas: Any, settings: Any
) -> None:
    from essaim.content import services
    from essaim.content.models import LinkPreview, PreviewState
    from essaim.content.tasks import fetch_link_preview

    settings.SITE_URL = "https://essaim.example"
    outside = services.post_create(
        actor=personas.member, community=None, body=f"See {net.url('/og')} today"
    )
    assert outside.link is not None and outside.link.state == PreviewState.PENDING
    assert fetch_link_preview.call(preview_id=outside.link.pk) == "ready"
    card = LinkPreview.objects.get(pk=outside.link.pk)
    assert (card.title, card.site_name) == ("Essaim — le réseau", "Essaim")
    # The same link again shares the card, fetched once.
    again = services.post_create(actor=personas.owner, community=None, body=net.url("/og"))
    assert again.link_id == card.pk and len(net.requests) == 1
    # An internal address is refused by the worker without a connection.
    inside = services.post_create(
        actor=personas.member, community=None, body=f"http://127.0.0.1:{net.port}/admin"
    )
    assert inside.link is not None
    assert fetch_link_preview.call(preview_id=inside.link.pk) == "refused"
    assert LinkPreview.objects.get(pk=inside.link.pk).state == PreviewState.FAILED
    assert net.listener.hits() == 0
    # A link to Essaim itself is previewed from the reader's rights, never fetched.
    own = services.post_create(
        actor=personas.member, community=None, body="https://essaim.example/posts/1/"
    )
    assert own.link is None
