"""Link previews: fetch a page someone linked and keep its title, description, site name
and image address — as plain text, never HTML (SECURITY.md cases 22, 23 and 24).

Fetching a URL that a user typed is a server-side request forgery waiting to happen: the
URL may name the metadata service, a loopback admin port, an intranet host, or a name
whose DNS answer changes between the check and the connection. So each hop (the URL and
at most three redirects) is checked the same way before any connection:

- http or https only, ports from ``settings.PREVIEW_PORTS`` (80 and 443), no user:password@,
  the host IDNA-encoded; IPv4 written in decimal, octal, hex or shortened forms is refused;
- the host is resolved once, and refused if any address is not public (``is_public_address``)
  unless it falls in ``settings.PREVIEW_ALLOWED_NETWORKS`` (tests only);
- the connection goes to that pinned address, never to a second resolution, while the Host
  header, TLS SNI and certificate check use the hostname.

The fetch is bounded as a whole: ``settings.PREVIEW_TIMEOUT`` (5 s) covers resolution,
connection, every read and every redirect, so a server dribbling one byte at a time is cut
by the deadline; at most 1 MiB is read; only text/html and application/xhtml+xml, without
content coding, are accepted. The request carries no cookie, Referer or user identity.

The page is parsed by html.parser with ``feed()`` only: without the CVE-2025-6069 fix
(3.11.7 here) ``close()`` is quadratic on crafted input, while ``feed()`` stops at the
first unfinished construct. Images are kept as addresses; they are never fetched here.
"""

from __future__ import annotations

import codecs
import contextlib
import http.client
import io
import ipaddress
import re
import socket
import ssl
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING, cast
from urllib.parse import quote, urljoin, urlsplit

import idna
from django.conf import settings

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

USER_AGENT = "EssaimPreview/1.0 (+link preview)"
MAX_REDIRECTS = 3
MAX_BODY = 1024 * 1024
MAX_PARSED = 512 * 1024
MAX_URL = 2000
TITLE_MAX, DESCRIPTION_MAX, SITE_NAME_MAX = 300, 1000, 100
HTML_TYPES = {"text/html", "application/xhtml+xml"}
REDIRECTS = {301, 302, 303, 307, 308}

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class Preview:
    url: str  # the URL asked for
    final_url: str  # after redirects
    title: str  # plain text, <= 300 chars
    description: str  # plain text, <= 1000 chars
    site_name: str  # plain text, <= 100 chars
    image_url: str  # absolute http(s) URL or ""; never fetched here


class PreviewRefused(Exception):
    """The URL is not previewed; ``reason`` (and str(exc)) says why: "bad url", "bad scheme",
    "userinfo not allowed", "bad host", "port not allowed", "cannot resolve",
    "blocked address", "timeout", "connection failed", "tls error", "bad response",
    "http status N", "bad redirect", "too many redirects", "not html", "encoded body",
    "nothing usable"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- Addresses --------------------------------------------------------------------------

_BLOCKED_V4 = [
    ipaddress.IPv4Network(cidr)
    for cidr in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
    )
]
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_BLOCKED_V6 = [
    ipaddress.IPv6Network(cidr)
    for cidr in (
        "2001::/23",  # IETF protocol assignments, Teredo included
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
    )
]
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_6TO4 = ipaddress.IPv6Network("2002::/16")


def _public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv4Address):
        return address.is_global and not any(address in net for net in _BLOCKED_V4)
    if address.scope_id:
        return False
    if address in _NAT64:  # the translator reaches the IPv4 address written in the low bits
        return _public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    if address in _6TO4 and address.sixtofour is not None and not _public(address.sixtofour):
        return False
    # Outside 2000::/3 lie loopback, unspecified, IPv4-mapped and -compatible, unique-local,
    # link-local, site-local, multicast and reserved space.
    return (
        address in _GLOBAL_UNICAST_V6
        and address.is_global
        and not any(address in net for net in _BLOCKED_V6)
    )


def is_public_address(ip: str) -> bool:
    """True when ``ip`` (one address, no brackets) is reachable on the public Internet."""
    try:
        return _public(ipaddress.ip_address(ip))
    except ValueError:
        return False


def _address_allowed(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if _public(address):
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        return False
    networks = settings.PREVIEW_ALLOWED_NETWORKS
    return any(address in ipaddress.ip_network(cidr, strict=False) for cidr in networks)


# --- URLs -------------------------------------------------------------------------------

_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\Z")
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)\Z")
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # ASCII: IDNA-encoded name or canonical IP text
    port: int
    path: str  # request target: path and query, percent-encoded ASCII
    address: Address | None  # the host, when it is an IP literal

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        authority = host if self.port == default else f"{host}:{self.port}"
        return f"{self.scheme}://{authority}{self.path}"

    @property
    def authority(self) -> str:
        return self.url.split("/", 3)[2]


def _host(hostname: str, bracketed: bool) -> tuple[str, Address | None]:
    """The ASCII form of a URL host, and its address when it is an IP literal."""
    if "%" in hostname:  # percent-encoding or an IPv6 zone
        raise PreviewRefused("bad host")
    if bracketed:
        try:
            address: Address = ipaddress.IPv6Address(hostname)
        except ValueError:
            raise PreviewRefused("bad host") from None
        return str(address), address
    host = hostname.removesuffix(".")
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except UnicodeError:  # idna.IDNAError included
            raise PreviewRefused("bad host") from None
    host = host.lower()
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise PreviewRefused("bad host")
    if _NUMERIC_LABEL.match(labels[-1]):
        # Only the dotted-quad form is an address here: 2130706433, 0x7f.1, 0177.0.0.1 or
        # 127.1 are read as 127.0.0.1 by some resolvers and not by others.
        try:
            address = ipaddress.IPv4Address(host)
        except ValueError:
            raise PreviewRefused("bad host") from None
        return str(address), address
    return host, None


def _target(url: str, *, check_port: bool = True) -> _Target:
    if len(url) > MAX_URL or any(c <= " " or c in "\x7f\\" for c in url):
        raise PreviewRefused("bad url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise PreviewRefused("bad url") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise PreviewRefused("bad scheme")
    if "@" in parts.netloc:
        raise PreviewRefused("userinfo not allowed")
    if not parts.hostname:
        raise PreviewRefused("bad url")
    host, address = _host(parts.hostname, bracketed=parts.netloc.startswith("["))
    port = port or (443 if scheme == "https" else 80)
    if check_port and port not in settings.PREVIEW_PORTS:
        raise PreviewRefused("port not allowed")
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_PATH_SAFE + "?")
    return _Target(scheme, host, port, path, address)


# --- Network ----------------------------------------------------------------------------


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        left = self._end - time.monotonic()
        if left <= 0:
            raise TimeoutError("preview deadline")
        return left


def _getaddrinfo(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def _resolve(resolve: Resolver, host: str, port: int, deadline: _Deadline) -> list[str]:
    """Call the resolver in a daemon thread: getaddrinfo has no timeout of its own."""
    answer: list[list[str]] = []

    def run() -> None:
        try:
            answer.append(list(resolve(host, port)))
        except (OSError, UnicodeError, ValueError):
            answer.append([])

    thread = threading.Thread(target=run, name="preview-resolve", daemon=True)
    thread.start()
    thread.join(deadline.remaining())
    if thread.is_alive():
        raise TimeoutError("resolution")
    return answer[0] if answer else []


def _pin(target: _Target, resolve: Resolver, deadline: _Deadline) -> str:
    """The one address this hop connects to, after every resolved address was checked."""
    if target.address is not None:
        addresses = [str(target.address)]
    else:
        addresses = _resolve(resolve, target.host, target.port, deadline)
    if not addresses:
        raise PreviewRefused("cannot resolve")
    if not all(_address_allowed(ip) for ip in addresses):
        raise PreviewRefused("blocked address")
    return str(ipaddress.ip_address(addresses[0]))


class _DeadlineReader(io.RawIOBase):
    """Socket reads that each wait only for what is left of the deadline."""

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        self._sock, self._deadline = sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        self._sock.settimeout(self._deadline.remaining())
        return self._sock.recv_into(buffer)


class _DeadlineSocket:
    """What http.client.HTTPResponse needs of a socket: a reader."""

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        self._sock, self._deadline = sock, deadline

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))


def _connect(target: _Target, ip: str, deadline: _Deadline) -> socket.socket:
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(deadline.remaining())
        sock.connect((ip, target.port))  # the pinned address: no second resolution
        if target.scheme == "https":
            sock.settimeout(deadline.remaining())
            context = ssl.create_default_context()  # verifies the chain and the hostname
            sock = context.wrap_socket(sock, server_hostname=target.host)
    except BaseException:
        sock.close()
        raise
    return sock


@dataclass(frozen=True)
class _Page:
    target: _Target
    charset: str | None
    body: bytes


def _get(target: _Target, ip: str, deadline: _Deadline) -> _Page | str:
    """One GET: the page, or the Location of a redirect."""
    request = (
        f"GET {target.path} HTTP/1.1\r\nHost: {target.authority}\r\n"
        f"User-Agent: {USER_AGENT}\r\nAccept: text/html\r\n"
        "Accept-Encoding: identity\r\nConnection: close\r\n\r\n"
    )
    sock = _connect(target, ip, deadline)
    try:
        sock.settimeout(deadline.remaining())
        sock.sendall(request.encode("ascii"))
        reader = cast(socket.socket, _DeadlineSocket(sock, deadline))
        response = http.client.HTTPResponse(reader, method="GET")
        response.begin()
        if response.status in REDIRECTS:
            return response.getheader("Location", "").strip()
        if response.status != 200:
            raise PreviewRefused(f"http status {response.status}")
        if response.headers.get_content_type() not in HTML_TYPES:
            raise PreviewRefused("not html")
        if response.getheader("Content-Encoding", "identity").strip().lower() != "identity":
            raise PreviewRefused("encoded body")
        chunks: list[bytes] = []
        size = 0
        while size < MAX_BODY:  # stop at the cap, however much the server has left
            chunk = response.read(min(64 * 1024, MAX_BODY - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return _Page(target, response.headers.get_content_charset(), b"".join(chunks))
    finally:
        sock.close()


def _fetch(url: str, resolve: Resolver, deadline: _Deadline) -> Preview:
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        target = _target(current)
        ip = _pin(target, resolve, deadline)
        result = _get(target, ip, deadline)
        if isinstance(result, _Page):
            return _preview(url, result)
        if not result:
            raise PreviewRefused("bad redirect")
        current = urljoin(target.url, result)
    raise PreviewRefused("too many redirects")


def fetch_preview(url: str, *, resolve: Resolver | None = None) -> Preview:
    """Fetch ``url`` and return its preview, or raise PreviewRefused.

    ``resolve(host, port)`` returns the host's addresses (default: socket.getaddrinfo);
    it is called once per hop and its first address is the one connected to."""
    deadline = _Deadline(float(settings.PREVIEW_TIMEOUT))
    try:
        return _fetch(url, resolve or _getaddrinfo, deadline)
    except TimeoutError:
        raise PreviewRefused("timeout") from None
    except ssl.SSLError:
        raise PreviewRefused("tls error") from None
    except OSError:
        raise PreviewRefused("connection failed") from None
    except http.client.HTTPException:
        raise PreviewRefused("bad response") from None


# --- Parsing ----------------------------------------------------------------------------

_META_KEYS = {
    *("og:title", "twitter:title", "og:description", "twitter:description", "description"),
    *("og:site_name", "og:image", "og:image:url", "og:image:secure_url", "twitter:image"),
}
_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]{1,40})""", re.I)
_UNSAFE_CODECS = {"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined"}
_TAG = re.compile(r"</?[a-zA-Z!?][^<>]*>")
_KEPT_FORMAT = {"\u200c", "\u200d"}  # joiners: emoji sequences and some scripts need them


class _HeadParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self._in_title = self._title_done = False
        self._raw: str | None = None  # inside script or style
        self._svg = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._raw = tag
        elif tag == "svg":
            self._svg += 1
        elif tag == "title" and not self._title_done and not self._svg:
            self._in_title = True
        elif tag == "meta":
            values = {name: value or "" for name, value in attrs}
            key = (values.get("property") or values.get("name") or "").strip().lower()
            if key in _META_KEYS and key not in self.meta:
                self.meta[key] = values.get("content", "")[: 4 * DESCRIPTION_MAX]

    def handle_endtag(self, tag: str) -> None:
        if tag == self._raw:
            self._raw = None
        elif tag == "svg":
            self._svg = max(0, self._svg - 1)
        elif tag == "title" and self._in_title:
            self._in_title, self._title_done = False, True

    def handle_data(self, data: str) -> None:
        if self._in_title and self._raw is None and len(self.title) < 4 * TITLE_MAX:
            self.title += data


def _decode(body: bytes, charset: str | None) -> str:
    if body.startswith(codecs.BOM_UTF8):
        charset = "utf-8-sig"
    elif body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        charset = "utf-16"
    elif not charset and (match := _CHARSET.search(body[:1024])):
        charset = match.group(1).decode("ascii")
    try:
        codec = codecs.lookup(charset or "utf-8").name
        if codec in _UNSAFE_CODECS:  # slow or meaningless on a web page
            codec = "utf-8"
        return body.decode(codec, "replace")
    except (LookupError, UnicodeError, ValueError):
        return body.decode("utf-8", "replace")


def _plain(value: str, limit: int) -> str:
    """Plain text: no tags, control or bidi characters, whitespace collapsed, truncated.
    Entities were decoded by the parser; the text is escaped where it is shown."""
    value = _TAG.sub(" ", value[: 4 * limit])
    value = "".join(
        c
        for c in value
        if c.isspace()
        or c in _KEPT_FORMAT
        or unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co")
    )
    return " ".join(value.split())[:limit].rstrip()


def _image(value: str, base: str) -> str:
    try:
        target = _target(urljoin(base, value.strip()), check_port=False)
    except PreviewRefused:
        return ""
    if target.address is not None and not _address_allowed(str(target.address)):
        return ""
    return target.url if len(target.url) <= MAX_URL else ""


def _preview(url: str, page: _Page) -> Preview:
    parser = _HeadParser()
    with contextlib.suppress(AssertionError, ValueError):  # malformed: keep what was read
        parser.feed(_decode(page.body[:MAX_PARSED], page.charset))  # never close(): see top
    meta = parser.meta
    final_url = page.target.url

    def first(limit: int, *values: str | None) -> str:
        return next((text for v in values if v and (text := _plain(v, limit))), "")

    title = first(TITLE_MAX, meta.get("og:title"), meta.get("twitter:title"), parser.title)
    description = first(
        DESCRIPTION_MAX,
        meta.get("og:description"),
        meta.get("twitter:description"),
        meta.get("description"),
    )
    site_name = first(SITE_NAME_MAX, meta.get("og:site_name"), page.target.host)
    images = ("og:image", "og:image:secure_url", "og:image:url", "twitter:image")
    image_url = next(
        (image for key in images if key in meta and (image := _image(meta[key], final_url))),
        "",
    )
    if not (title or description or image_url):
        raise PreviewRefused("nothing usable")
    return Preview(url, final_url, title, description, site_name, image_url)
