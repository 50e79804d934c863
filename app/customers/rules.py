"""Pure decisions about customers and pools: recycle clock, pool choice, caps, name/phone keys.

No database here: tests exercise every combination directly. Where the worker or a rule
change needs the same decision for many rows at once, `recycle_sql` renders the very same
rule as SQL; a test checks the two agree.
"""

import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, case, func, literal, null, or_

from app.customers.schemas import RecycleReason

NO_FOLLOWUP: Final = "no_followup"
NO_DEAL: Final = "no_deal"


@dataclass(frozen=True)
class RecycleRules:
    """The clock part of a pool's rules; None disables that rule."""

    no_followup_days: int | None = 15
    no_deal_days: int | None = 30
    won_exempt: bool = True


@dataclass(frozen=True)
class RecycleClock:
    recycle_at: datetime | None
    recycle_reason: RecycleReason | None


NEVER = RecycleClock(None, None)


def _latest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return max(present) if present else None


def recycle_clock(
    *,
    owned: bool,
    status: str,
    claimed_at: datetime | None,
    last_followup_at: datetime | None,
    last_deal_at: datetime | None,
    rules: RecycleRules,
) -> RecycleClock:
    """When (and why) an owned customer goes back to the pool if nothing else happens.

    Each clock starts at the later of the claim and the last event of its kind: a new
    owner gets the full period. The earlier deadline wins; on a tie, `no_followup`.
    """
    if not owned or (status == "won" and rules.won_exempt):
        return NEVER
    candidates: list[tuple[datetime, RecycleReason]] = []
    followup_base = _latest(claimed_at, last_followup_at)
    if rules.no_followup_days and followup_base is not None:
        candidates.append((followup_base + timedelta(days=rules.no_followup_days), NO_FOLLOWUP))
    deal_base = _latest(claimed_at, last_deal_at)
    if rules.no_deal_days and deal_base is not None:
        candidates.append((deal_base + timedelta(days=rules.no_deal_days), NO_DEAL))
    if not candidates:
        return NEVER
    due, reason = min(candidates, key=lambda c: (c[0], c[1] != NO_FOLLOWUP))
    return RecycleClock(due, reason)


def recycle_check_at(recycle_at: datetime | None, warning_days: int) -> datetime | None:
    """When the recycle job should look at a customer next: its advance warning (the pool's
    warning days before recycle_at, as 24-hour spans), or recycle_at itself."""
    if recycle_at is None:
        return None
    return recycle_at - timedelta(hours=24 * max(warning_days, 0))


def recycle_sql(
    customer: Any, no_followup_days: Any, no_deal_days: Any, won_exempt: Any
) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The same rule as `recycle_clock`, as SQL over a customers table and rule expressions.

    Days are added as 24-hour spans (like timedelta), not calendar days: a calendar-day
    interval would follow the session time zone's daylight-saving shifts.
    """
    followup_due = case(
        (
            no_followup_days > 0,
            func.greatest(customer.c.claimed_at, customer.c.last_followup_at)
            + func.make_interval(0, 0, 0, 0, no_followup_days * 24),
        ),
        else_=null(),
    )
    deal_due = case(
        (
            no_deal_days > 0,
            func.greatest(customer.c.claimed_at, customer.c.last_deal_at)
            + func.make_interval(0, 0, 0, 0, no_deal_days * 24),
        ),
        else_=null(),
    )
    exempt = or_(customer.c.owner_id.is_(None), and_(customer.c.status == "won", won_exempt))
    recycle_at = case((exempt, null()), else_=func.least(followup_due, deal_due))
    reason = case(
        (exempt, null()),
        (
            and_(followup_due.is_not(None), or_(deal_due.is_(None), followup_due <= deal_due)),
            literal(NO_FOLLOWUP),
        ),
        (deal_due.is_not(None), literal(NO_DEAL)),
        else_=null(),
    )
    return recycle_at, reason


@dataclass(frozen=True)
class PoolScope:
    id: uuid.UUID
    is_default: bool
    regions: Sequence[str]
    industries: Sequence[str]
    created_at: datetime


def choose_pool(region: str | None, industry: str | None, pools: Sequence[PoolScope]) -> uuid.UUID:
    """The pool a customer belongs to: the oldest scoped pool that matches, else the default.

    A scoped pool matches when each scope it sets (regions, industries) contains the
    customer's value; an empty scope list means "any".
    """
    default = next(p for p in pools if p.is_default)
    for pool in sorted((p for p in pools if not p.is_default), key=lambda p: (p.created_at, p.id)):
        if pool.regions and region not in pool.regions:
            continue
        if pool.industries and industry not in pool.industries:
            continue
        return pool.id
    return default.id


def holding_cap_for(
    department_path: str | None, company_cap: int, department_caps: Mapping[str, int]
) -> int:
    """A user's cap: the nearest department up the tree with an override, else the company's."""
    if department_path:
        for department_id in reversed([part for part in department_path.split("/") if part]):
            if department_id in department_caps:
                return department_caps[department_id]
    return company_cap


# Longest first, so "股份有限公司" is removed before "有限公司".
_CHINESE_SUFFIXES = sorted(
    ["股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "集团公司", "分公司", "公司"],
    key=len,
    reverse=True,
)
# Latin suffixes only count as whole words ("Costco" keeps its "co").
_LATIN_SUFFIX = re.compile(
    r"(?:^|[\s,.])(?:co\.?,?\s*ltd|company\s+limited|company|limited|ltd|incorporated|inc"
    r"|corporation|corp|co|llc|gmbh|plc)\.?\s*$"
)
_NOISE = re.compile(r"[\s\.,，。()（）\[\]【】\-_&'\"·/]+")


def normalise_name(name: str) -> str:
    """A duplicate-detection key: width-folded, case-folded, no spaces, punctuation or suffix."""
    key = unicodedata.normalize("NFKC", name).casefold().strip()
    while (stripped := _LATIN_SUFFIX.sub("", key).strip(" ,.")) != key and stripped:
        key = stripped
    key = _NOISE.sub("", key)
    changed = True
    while changed:
        changed = False
        for suffix in _CHINESE_SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix):
                key = key[: -len(suffix)]
                changed = True
                break
    return key


def normalise_phone(phone: str | None) -> str | None:
    """Digits only, without a +86/0086 country prefix on mobile numbers; None when empty."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", phone))
    for prefix in ("0086", "86"):
        if (
            digits.startswith(prefix)
            and len(digits) - len(prefix) == 11
            and digits[len(prefix)] == "1"
        ):
            digits = digits[len(prefix) :]
            break
    return digits or None
