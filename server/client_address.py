"""Who a request comes from, for counting it against per-address rate limits.

The socket's peer, unless that peer is a trusted proxy (TICKETBLUE_TRUSTED_PROXIES): then the
rightmost X-Forwarded-For entry that is not itself a trusted proxy. Entries further left were
written by the client and prove nothing; a client that talks to us directly cannot choose its
address at all.
"""
from __future__ import annotations

import ipaddress
from typing import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
IPV6_SITE_PREFIX = 64          # one IPv6 subscriber gets a whole /64: counting single addresses would not hold them


def client_address(peer: str | None, forwarded_for: Iterable[str], trusted: list[Network]) -> str:
    """`forwarded_for`: the X-Forwarded-For header values, in the order received."""
    client = _parse(peer)
    if client is None:
        return peer or "unknown"                   # a Unix socket: there is nothing better to tell
    if _is_trusted(client, trusted):
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
        for hop in reversed(hops):
            address = _parse(hop)
            if address is None:
                break                              # not a proxy's writing: the last trusted hop stands in
            client = address
            if not _is_trusted(address, trusted):
                break
    return _bucket(client)


def _parse(text: str | None) -> Address | None:
    try:
        address = ipaddress.ip_address(text or "")
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: Address, trusted: list[Network]) -> bool:
    return any(address in network for network in trusted)


def _bucket(address: Address) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, IPV6_SITE_PREFIX), strict=False))
    return str(address)
