"""The problem codes of customers, pools and ownership, one constructor each."""

from datetime import datetime
from typing import Any

from app.core.errors import ProblemError, field_error


def duplicate_customer(
    where: str,
    *,
    existing_customer_id: str,
    visible: bool,
    in_pool: bool,
    duplicates: list[dict[str, Any]],
) -> ProblemError:
    """409: a customer with the same name or phone exists; says where and which."""
    return ProblemError(
        409,
        "duplicate_customer",
        f"A matching customer exists ({where}).",
        existing_customer_id=existing_customer_id,
        visible=visible,
        in_pool=in_pool,
        duplicates=duplicates,
    )


def pool_claim_not_allowed(
    detail: str = "Your department may not claim from this pool.",
) -> ProblemError:
    """403: the pool restricts claiming to other departments."""
    return ProblemError(403, "pool_claim_not_allowed", detail)


def override_cap_forbidden(
    detail: str = "Only admins may override the holding cap.",
) -> ProblemError:
    """403: a non-admin asking to transfer past the holding cap."""
    return ProblemError(403, "override_cap_forbidden", detail)


def customer_not_in_pool(detail: str = "This customer is not in the pool.") -> ProblemError:
    """409: claiming a customer someone owns (or who was claimed first)."""
    return ProblemError(409, "customer_not_in_pool", detail)


def reclaim_cooldown(available: datetime) -> ProblemError:
    """409: the caller lost this customer recently and may claim it again at `available`."""
    return ProblemError(
        409,
        "reclaim_cooldown",
        f"You lost it recently; claim it again after {available:%Y-%m-%d %H:%M} UTC.",
        available_at=available.isoformat(),
    )


def daily_claim_limit(limit: int, retry_after: int) -> ProblemError:
    """429: the caller used up today's claims from this pool; Retry-After in seconds."""
    return ProblemError(
        429,
        "daily_claim_limit",
        f"You may claim {limit} customers a day from this pool.",
        headers={"Retry-After": str(retry_after)},
        daily_claim_limit=limit,
    )


def customer_not_owned(detail: str = "This customer is already in the pool.") -> ProblemError:
    """409: acting as owner on a customer that sits in the pool."""
    return ProblemError(409, "customer_not_owned", detail)


def owner_changed(detail: str = "The owner changed meanwhile; reload it.") -> ProblemError:
    """409: a transfer raced another change of owner."""
    return ProblemError(409, "owner_changed", detail)


def unknown_user(detail: str = "No active user with that id in your company.") -> ProblemError:
    """422: a collaborator id that is not an active user of the company."""
    return field_error(422, "unknown_user", detail, loc=("body", "user_id"), msg="unknown user")


def pool_scope_required(
    detail: str = "A pool needs regions or industries (or both).", *, field_level: bool = True
) -> ProblemError:
    """422: a pool with neither regions nor industries (`errors[]` at body.regions if asked)."""
    if not field_level:
        return ProblemError(422, "pool_scope_required", detail)
    return field_error(
        422, "pool_scope_required", detail, loc=("body", "regions"), msg="scope required"
    )


def default_pool_unscoped(
    detail: str = "The default pool takes everything; it has no scope.",
) -> ProblemError:
    """422: giving the default pool regions or industries."""
    return ProblemError(422, "default_pool_unscoped", detail)


def default_pool_required(detail: str = "The default pool cannot be deleted.") -> ProblemError:
    """409: deleting the company's default pool."""
    return ProblemError(409, "default_pool_required", detail)


def user_inactive(detail: str = "That user is deactivated.") -> ProblemError:
    """409: handing customers to a deactivated user."""
    return ProblemError(409, "user_inactive", detail)


def holding_cap_reached(cap: int, held: int) -> ProblemError:
    """409: the user already holds `cap` customers."""
    return ProblemError(
        409,
        "holding_cap_reached",
        f"The holding cap of {cap} customers is reached; release one first.",
        holding_cap=cap,
        held=held,
    )


def status_needs_deal(status: str = "won") -> ProblemError:
    """422: setting `won` or `lost` by hand; those statuses change only through a deal."""
    return field_error(
        422,
        "status_needs_deal",
        f"A customer becomes {status} only through a deal (POST /v1/customers/{{id}}/deals).",
        loc=("body", "status"),
        msg="set by deals only",
    )
