"""Pure webhook decisions: event types, forbidden addresses, signatures, the retry schedule."""

import hashlib
import hmac
import ipaddress
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

EventType = Literal[
    "followup.created",
    "checkin.created",
    "log.created",
    "customer.claimed",
    "customer.released",
    "customer.recycled",
    "customer.transferred",
    "customer.assigned",
    "customer.deal_recorded",
    "collaborator.added",
    "comment.created",
    "like.created",
    "lead.created",
    "lead.assigned",
    "lead.converted",
    "opportunity.created",
    "opportunity.stage_changed",
    "opportunity.won",
    "opportunity.lost",
    "contract.created",
    "contract.activated",
    "contract.terminated",
    "payment.recorded",
    "payment.confirmed",
    "payment.reversed",
    "approval.decided",
    "customer.created",
    "customer.updated",
    "webhook.test",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)

SIGNATURE_VERSION = "v1"
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Ranges the `is_*` flags miss or misjudge: CGNAT, and the well-known NAT64 prefix, whose
# addresses reach whatever IPv4 address they embed (public ones are fine through DNS64).
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one tunnels to (6to4, Teredo), if any."""
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def is_forbidden_address(address: IPAddress) -> bool:
    """Off limits: loopback, private, link-local (metadata), CGNAT, multicast, reserved."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_forbidden_address(address.ipv4_mapped)
        if address in NAT64_PREFIX:
            return is_forbidden_address(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        embedded = _embedded_ipv4(address)
        if address.is_site_local or (embedded is not None and is_forbidden_address(embedded)):
            return True
    if isinstance(address, ipaddress.IPv4Address) and address in SHARED_ADDRESS_SPACE:
        return True
    return (
        not address.is_global
        or address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def parse_address(raw: str) -> IPAddress:
    """An address from getaddrinfo, without an IPv6 zone (`fe80::1%eth0`)."""
    return ipaddress.ip_address(raw.split("%", 1)[0])


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`Outfield-Signature` value: v1=hex(HMAC-SHA256(secret, "<timestamp>.<body>"))."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={digest.hexdigest()}"


def rfc3339(at: datetime) -> str:
    """UTC timestamp with milliseconds and a `Z`."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
