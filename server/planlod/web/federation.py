"""Which remote SPARQL endpoints a query may reach (SERVICE), and which addresses never.

Rules, in order:
1. SERVICE is off unless the endpoint IRI is on the allow-list (config SERVICE_ALLOWLIST: a list, or a
   string of IRIs separated by whitespace or commas). A variable endpoint (`SERVICE ?x`) is never allowed.
2. Only http and https, no user-info in the IRI.
3. The host, and every address it resolves to, must be a global unicast address: loopback, private,
   link-local (which holds the cloud metadata address 169.254.169.254), shared (100.64/10), multicast,
   reserved and unspecified addresses are refused even when allow-listed.

What the engine does itself (checked against pyoxigraph 0.5.13): FROM / FROM NAMED only select graphs
already in the store (no fetch); LOAD is an update and updates never reach the store; the SERVICE
client follows no redirects (a 3xx is an error), so a redirect cannot lead elsewhere. What stays outside
our control: the engine resolves the host again when it connects, so an allow-listed name whose DNS
changes between our check and its connection (DNS rebinding) is not caught here; allow-list only hosts
whose DNS you trust.

Test-only: `allow_loopback=True` (config SERVICE_ALLOW_LOOPBACK, off by default, never for a deployment)
lets an allow-listed endpoint on a loopback address through, so tests can federate with a peer server on
127.0.0.1. Private, link-local and metadata addresses stay refused even then.

The federation tests and any other module reuse `check_endpoint` / `is_refused_address`.
"""

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}

Resolver = Callable[[str, int], Iterable[str]]


class EndpointRefused(Exception):
    """A SERVICE endpoint this server will not call; the message says why."""


def is_refused_address(address: str, allow_loopback: bool = False) -> bool:
    """True for any address a public server must not connect to on a client's behalf."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if allow_loopback and ip.is_loopback:
        return False
    return not ip.is_global or ip.is_multicast


def parse_allowlist(value: object) -> frozenset[str]:
    if not value:
        return frozenset()
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    return frozenset(normalise(str(item)) for item in items)


def normalise(iri: str) -> str:
    """Scheme and host lower-cased, default port dropped: the form allow-list entries are compared in."""
    parts = urlsplit(iri.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    if ":" in host:
        netloc = f"[{host}]" if port in (None, DEFAULT_PORTS.get(scheme)) else f"[{host}]:{port}"
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{netloc}{parts.path or '/'}{query}"


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise EndpointRefused(f"SERVICE endpoint host {host!r} does not resolve ({error})") from None
    return [info[4][0] for info in infos]


def check_endpoint(iri: str | None, allowlist: frozenset[str],
                   resolve: Resolver = system_resolver, allow_loopback: bool = False) -> None:
    """Raise EndpointRefused unless `iri` may be called; returns None when it may."""
    if iri is None:
        raise EndpointRefused("SERVICE with a variable endpoint is not allowed; name the endpoint IRI")
    if not allowlist:
        raise EndpointRefused(f"SERVICE is disabled on this endpoint (no endpoint is allow-listed): <{iri}>")
    parts = urlsplit(iri)
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise EndpointRefused(f"SERVICE endpoint <{iri}>: only http and https are allowed")
    if parts.username or parts.password:
        raise EndpointRefused(f"SERVICE endpoint <{iri}>: credentials in the IRI are not allowed")
    if normalise(iri) not in allowlist:
        raise EndpointRefused(f"SERVICE endpoint <{iri}> is not on this server's allow-list")
    host = parts.hostname or ""
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise EndpointRefused(f"SERVICE endpoint <{iri}>: invalid port") from None
    addresses = list(resolve(host, port))
    if not addresses:
        raise EndpointRefused(f"SERVICE endpoint host {host!r} has no address")
    refused = [a for a in addresses if is_refused_address(a, allow_loopback)]
    if refused:
        raise EndpointRefused(f"SERVICE endpoint <{iri}> resolves to a non-public address ({refused[0]}); "
                              "loopback, private, link-local and metadata addresses are always refused")


def check_services(targets: Iterable[str | None], allowlist: frozenset[str],
                   resolve: Resolver = system_resolver, allow_loopback: bool = False) -> None:
    for target in targets:
        check_endpoint(target, allowlist, resolve, allow_loopback)
