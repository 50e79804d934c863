"""The pure contract rules: line arithmetic to the fen (half-up), the amount of several lines,
the number format, the status machine and the fields each status leaves editable."""

from datetime import date
from decimal import Decimal

import pytest

from app.money import rules

D = Decimal


@pytest.mark.parametrize(
    ("quantity", "unit_price", "discount", "expected"),
    [
        ("3", "33.33", "0.15", "84.99"),  # 84.9915
        ("1", "10.00", "0", "10.00"),
        ("1", "0.05", "0.5", "0.03"),  # 0.025 → half-up
        ("1", "0.01", "0.5", "0.01"),  # 0.005 → half-up
        ("3", "0.15", "0.5", "0.23"),  # 0.225 → half-up, not banker's 0.22
        ("2.5", "19.99", "0.1", "44.98"),  # 44.9775
        ("0.001", "1.00", "0", "0.00"),  # 0.001 → 0.00
        ("7", "1428.57", "0.0001", "9998.99"),  # 9998.990001
        ("1", "999999999999.99", "0", "999999999999.99"),
        ("3", "0.10", "0", "0.30"),  # never a float's 0.30000000000000004
    ],
)
def test_line_amount_is_exact_and_rounds_half_up_to_the_fen(
    quantity, unit_price, discount, expected
):
    assert rules.line_amount(D(quantity), D(unit_price), D(discount)) == D(expected)
    assert str(rules.line_amount(D(quantity), D(unit_price), D(discount))) == expected


def test_the_contract_amount_is_the_sum_of_the_rounded_lines():
    lines = [rules.Line(D("3"), D("33.33"), D("0.15")), rules.Line(D("1"), D("0.05"), D("0.5"))]
    # 84.99 + 0.03 (not round(84.9915 + 0.025) = 85.02).
    assert rules.contract_amount(lines) == D("85.02")
    assert rules.contract_amount([]) == D("0.00")
    assert rules.amount_matches(D("85.02"), lines)
    assert rules.amount_matches(D("85.020"), lines)
    assert rules.amount_matches(None, lines)
    assert not rules.amount_matches(D("85.01"), lines)


def test_number_format():
    assert rules.format_number(2027, 1) == "HT-2027-000001"
    assert rules.format_number(2027, 123) == "HT-2027-000123"
    assert rules.format_number(2028, 999999) == "HT-2028-999999"
    assert rules.format_number(2028, 1000000) == "HT-2028-1000000"


@pytest.mark.parametrize(
    ("action", "allowed"),
    [
        ("submit", {"draft"}),
        ("complete", {"active"}),
        ("terminate", {"active"}),
        ("delete", {"draft"}),
    ],
)
def test_every_action_is_allowed_from_its_statuses_only(action, allowed):
    for status in ("draft", "pending_approval", "active", "completed", "terminated"):
        refusal = rules.check_action(action, status)
        if status in allowed:
            assert refusal is None, (action, status)
        elif status == "pending_approval":
            assert refusal is not None and refusal.kind == "locked"
        else:
            assert refusal is not None and refusal.kind == "status", (action, status)


def test_a_signed_contract_keeps_its_money_fields():
    assert rules.locked_fields("draft", ["amount", "lines", "customer_id", "title"]) == []
    for status in ("active", "completed", "terminated"):
        assert rules.locked_fields(status, ["title", "note", "end_date"]) == []
        assert rules.locked_fields(status, ["amount", "title"]) == ["amount"]
        assert rules.locked_fields(status, ["lines", "customer_id", "signed_on"]) == [
            "customer_id",
            "lines",
            "signed_on",
        ]
    assert rules.MONEY_FIELDS <= rules.DRAFT_FIELDS - rules.SIGNED_FIELDS


def test_discount_approval_applies_above_the_threshold_only():
    assert not rules.needs_discount_approval([D("0.15")], D("0.15"))
    assert rules.needs_discount_approval([D("0"), D("0.1501")], D("0.15"))
    assert not rules.needs_discount_approval([D("0.5")], None)
    assert not rules.needs_discount_approval([], D("0"))


def test_dates_in_order():
    assert rules.dates_in_order(date(2027, 1, 1), date(2027, 1, 1))
    assert rules.dates_in_order(None, date(2027, 1, 1))
    assert rules.dates_in_order(date(2027, 1, 1), None)
    assert not rules.dates_in_order(date(2027, 1, 2), date(2027, 1, 1))
