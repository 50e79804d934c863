"""Pure decisions of contracts: line arithmetic, the contract number, the status machine and
which fields a contract's status leaves editable. No database: tests call these directly."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

FEN = Decimal("0.01")
NUMBER_PREFIX = "HT"
NUMBER_DIGITS = 6

ContractStatus = Literal["draft", "pending_approval", "active", "completed", "terminated"]
Action = Literal["submit", "complete", "terminate", "delete"]

# From which status each action may start (and where it leads; submit may lead to
# pending_approval or straight to active, decided by the approval flows).
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "submit": frozenset({"draft"}),
    "complete": frozenset({"active"}),
    "terminate": frozenset({"active"}),
    "delete": frozenset({"draft"}),
}

# The fields PATCH may change in each status. A draft is all editable; an active (or closed)
# contract keeps its money fields: amount, lines, customer (make a new contract or terminate).
DRAFT_FIELDS = frozenset(
    {
        "customer_id",
        "opportunity_id",
        "number",
        "title",
        "amount",
        "lines",
        "signed_on",
        "start_date",
        "end_date",
        "note",
        "owner_id",
    }
)
SIGNED_FIELDS = frozenset({"title", "note", "end_date"})
MONEY_FIELDS = frozenset({"amount", "lines", "customer_id"})


def line_amount(quantity: Decimal, unit_price: Decimal, discount: Decimal) -> Decimal:
    """quantity × unit_price × (1 − discount), rounded half-up to the fen (exact Decimal)."""
    return (quantity * unit_price * (Decimal(1) - discount)).quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Line:
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal = Decimal(0)

    @property
    def amount(self) -> Decimal:
        return line_amount(self.quantity, self.unit_price, self.discount)


def contract_amount(lines: Iterable[Line]) -> Decimal:
    """Σ of the lines' (rounded) amounts: the contract's amount when it has lines."""
    return sum((line.amount for line in lines), Decimal("0.00")).quantize(FEN)


def amount_matches(given: Decimal | None, lines: Sequence[Line]) -> bool:
    """Whether an `amount` sent with lines agrees with them (none sent: it does)."""
    return given is None or given.quantize(FEN) == contract_amount(lines)


def format_number(year: int, sequence: int) -> str:
    """`HT-<year>-<6 digits>`; a sequence past 999999 simply has more digits."""
    return f"{NUMBER_PREFIX}-{year}-{sequence:0{NUMBER_DIGITS}d}"


@dataclass(frozen=True)
class Refusal:
    """Why an action may not start from a status: `locked` while in approval, else `status`."""

    kind: Literal["locked", "status"]
    detail: str


def check_action(action: Action, status: str) -> Refusal | None:
    """None when `action` may start from `status`."""
    if status in ALLOWED_FROM[action]:
        return None
    if status == "pending_approval":
        return Refusal("locked", "The contract is waiting for approval: withdraw it first.")
    allowed = " or ".join(sorted(ALLOWED_FROM[action]))
    return Refusal("status", f"A {status} contract cannot {action}; only a {allowed} one can.")


def locked_fields(status: str, fields: Iterable[str]) -> list[str]:
    """The fields of a PATCH that the contract's status does not let change (sorted)."""
    editable = DRAFT_FIELDS if status == "draft" else SIGNED_FIELDS
    return sorted(set(fields) - editable)


def needs_discount_approval(discounts: Iterable[Decimal], threshold: Decimal | None) -> bool:
    """A discount flow applies when some line's discount is above its threshold."""
    if threshold is None:
        return False
    return any(discount > threshold for discount in discounts)


def dates_in_order(start: date | None, end: date | None) -> bool:
    """start_date ≤ end_date when both are given."""
    return start is None or end is None or start <= end
