"""Pure customer rules: recycle clock, pool choice, holding cap, duplicate keys (no database)."""

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.customers.rules import (
    NEVER,
    NO_DEAL,
    NO_FOLLOWUP,
    PoolScope,
    RecycleClock,
    RecycleRules,
    choose_pool,
    holding_cap_for,
    normalise_name,
    normalise_phone,
    recycle_clock,
)


@pytest.fixture(autouse=True)
def _isolated() -> None:
    """These rules are pure: skip the suite's per-test database and Redis reset."""


def at(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# Recycle clock: every combination of ownership, status, rules and event dates.
#
# The dates are chosen so that, with both rules on, each outcome occurs somewhere in the grid:
# the follow-up clock wins (01-16 < 01-31), the deal clock wins (follow-up after the claim
# gives 02-04 > 01-31) and the two tie (02-04 == 02-04).
# ---------------------------------------------------------------------------------------------

CLAIMED_AT = at(2026, 1, 1)
FOLLOWUPS = {
    "no_followup": None,
    "followup_before_claim": at(2025, 12, 20),
    "followup_after_claim": at(2026, 1, 20),
}
DEALS = {"no_deal": None, "deal_before_claim": at(2025, 11, 1), "deal_after_claim": at(2026, 1, 5)}
STATUSES = ("prospect", "active", "won", "lost")


def expected_clock(
    *,
    owned: bool,
    status: str,
    won_exempt: bool,
    no_followup_days: int | None,
    no_deal_days: int | None,
    claimed_at: datetime,
    last_followup_at: datetime | None,
    last_deal_at: datetime | None,
) -> tuple[datetime | None, str | None]:
    """The rule, stated independently: pool customers and exempt wins have no clock; each
    enabled clock runs from the later of the claim and its last event; the earlier deadline
    wins and a tie goes to no_followup."""
    if not owned:
        return None, None
    if status == "won" and won_exempt:
        return None, None
    followup_due = deal_due = None
    if no_followup_days is not None:
        start = claimed_at if last_followup_at is None else max(claimed_at, last_followup_at)
        followup_due = start + timedelta(days=no_followup_days)
    if no_deal_days is not None:
        start = claimed_at if last_deal_at is None else max(claimed_at, last_deal_at)
        deal_due = start + timedelta(days=no_deal_days)
    if followup_due is None and deal_due is None:
        return None, None
    if deal_due is None or (followup_due is not None and followup_due <= deal_due):
        return followup_due, "no_followup"
    return deal_due, "no_deal"


def recycle_grid() -> list:
    cases = []
    for owned, status, won_exempt, nf, nd, (f_id, followup), (d_id, deal) in itertools.product(
        (True, False),
        STATUSES,
        (True, False),
        (15, None),
        (30, None),
        FOLLOWUPS.items(),
        DEALS.items(),
    ):
        case_id = "-".join(
            [
                "owned" if owned else "unowned",
                status,
                "won_exempt" if won_exempt else "won_not_exempt",
                f"followup_days={nf}",
                f"deal_days={nd}",
                f_id,
                d_id,
            ]
        )
        cases.append(pytest.param(owned, status, won_exempt, nf, nd, followup, deal, id=case_id))
    return cases


RECYCLE_GRID = recycle_grid()


def test_the_recycle_grid_covers_every_outcome():
    outcomes = {
        expected_clock(
            owned=p.values[0],
            status=p.values[1],
            won_exempt=p.values[2],
            no_followup_days=p.values[3],
            no_deal_days=p.values[4],
            claimed_at=CLAIMED_AT,
            last_followup_at=p.values[5],
            last_deal_at=p.values[6],
        )[1]
        for p in RECYCLE_GRID
    }
    assert len(RECYCLE_GRID) == 2 * 4 * 2 * 2 * 2 * 3 * 3
    assert outcomes == {None, "no_followup", "no_deal"}
    # Both rules on, both clocks equal: the tie is in the grid.
    f_due = FOLLOWUPS["followup_after_claim"] + timedelta(days=15)
    assert f_due == DEALS["deal_after_claim"] + timedelta(days=30)


@pytest.mark.parametrize(
    ("owned", "status", "won_exempt", "no_followup_days", "no_deal_days", "followup", "deal"),
    RECYCLE_GRID,
)
def test_recycle_clock_follows_the_rule_for_every_combination(
    owned, status, won_exempt, no_followup_days, no_deal_days, followup, deal
):
    rules = RecycleRules(
        no_followup_days=no_followup_days, no_deal_days=no_deal_days, won_exempt=won_exempt
    )
    clock = recycle_clock(
        owned=owned,
        status=status,
        claimed_at=CLAIMED_AT,
        last_followup_at=followup,
        last_deal_at=deal,
        rules=rules,
    )
    expected = expected_clock(
        owned=owned,
        status=status,
        won_exempt=won_exempt,
        no_followup_days=no_followup_days,
        no_deal_days=no_deal_days,
        claimed_at=CLAIMED_AT,
        last_followup_at=followup,
        last_deal_at=deal,
    )
    assert (clock.recycle_at, clock.recycle_reason) == expected


# Hand-written cases with literal expected dates.


def clock_for(
    *,
    owned: bool = True,
    status: str = "active",
    claimed_at: datetime | None = at(2026, 1, 1),
    last_followup_at: datetime | None = None,
    last_deal_at: datetime | None = None,
    **rules,
) -> RecycleClock:
    return recycle_clock(
        owned=owned,
        status=status,
        claimed_at=claimed_at,
        last_followup_at=last_followup_at,
        last_deal_at=last_deal_at,
        rules=RecycleRules(**rules),
    )


def test_a_fresh_claim_is_due_for_follow_up_after_the_default_fifteen_days():
    assert clock_for() == RecycleClock(at(2026, 1, 16), NO_FOLLOWUP)


def test_a_follow_up_after_the_claim_restarts_the_follow_up_clock():
    clock = clock_for(last_followup_at=at(2026, 1, 10), no_followup_days=15, no_deal_days=None)
    assert clock == RecycleClock(at(2026, 1, 25), NO_FOLLOWUP)


def test_a_follow_up_before_the_claim_does_not_shorten_the_new_owners_period():
    clock = clock_for(last_followup_at=at(2025, 12, 1), no_followup_days=15, no_deal_days=None)
    assert clock == RecycleClock(at(2026, 1, 16), NO_FOLLOWUP)


def test_the_earlier_follow_up_deadline_wins_over_the_deal_deadline():
    # Follow-up due 2026-01-25; deal clock from the claim due 2026-01-31.
    clock = clock_for(last_followup_at=at(2026, 1, 10), no_followup_days=15, no_deal_days=30)
    assert clock == RecycleClock(at(2026, 1, 25), NO_FOLLOWUP)


def test_the_earlier_deal_deadline_wins_over_the_follow_up_deadline():
    # Follow-up due 2026-02-04; deal clock from the claim due 2026-01-31.
    clock = clock_for(last_followup_at=at(2026, 1, 20), no_followup_days=15, no_deal_days=30)
    assert clock == RecycleClock(at(2026, 1, 31), NO_DEAL)


def test_a_tie_between_the_two_deadlines_goes_to_no_followup():
    # Follow-up 2026-01-16 + 15 days == claim 2026-01-01 + 30 days == 2026-01-31.
    clock = clock_for(last_followup_at=at(2026, 1, 16), no_followup_days=15, no_deal_days=30)
    assert clock == RecycleClock(at(2026, 1, 31), NO_FOLLOWUP)


def test_a_deal_after_the_claim_restarts_the_deal_clock():
    clock = clock_for(last_deal_at=at(2026, 1, 10), no_followup_days=None, no_deal_days=30)
    assert clock == RecycleClock(at(2026, 2, 9), NO_DEAL)


def test_the_deal_clock_alone_runs_from_the_claim():
    clock = clock_for(last_deal_at=at(2025, 6, 1), no_followup_days=None, no_deal_days=30)
    assert clock == RecycleClock(at(2026, 1, 31), NO_DEAL)


def test_the_clock_keeps_the_time_of_day_of_its_start():
    clock = clock_for(
        claimed_at=datetime(2026, 1, 1, 23, 59, 30, tzinfo=UTC),
        no_followup_days=15,
        no_deal_days=None,
    )
    assert clock.recycle_at == datetime(2026, 1, 16, 23, 59, 30, tzinfo=UTC)


def test_a_clock_can_cross_a_month_and_a_year_end():
    clock = clock_for(claimed_at=at(2025, 12, 20), no_followup_days=15, no_deal_days=None)
    assert clock == RecycleClock(at(2026, 1, 4), NO_FOLLOWUP)


def test_with_both_rules_disabled_an_owned_customer_never_recycles():
    assert clock_for(no_followup_days=None, no_deal_days=None) == NEVER


def test_a_pool_customer_has_no_clock():
    assert clock_for(owned=False, last_followup_at=at(2026, 1, 10)) == NEVER


def test_a_won_customer_is_exempt_when_the_rules_say_so():
    assert clock_for(status="won", won_exempt=True) == NEVER


def test_a_won_customer_recycles_when_won_is_not_exempt():
    clock = clock_for(status="won", won_exempt=False, no_followup_days=15, no_deal_days=30)
    assert clock == RecycleClock(at(2026, 1, 16), NO_FOLLOWUP)


@pytest.mark.parametrize("status", ["prospect", "active", "lost"])
def test_won_exemption_does_not_apply_to_other_statuses(status):
    clock = clock_for(status=status, won_exempt=True, no_followup_days=15, no_deal_days=30)
    assert clock == RecycleClock(at(2026, 1, 16), NO_FOLLOWUP)


# ---------------------------------------------------------------------------------------------
# Pool choice
# ---------------------------------------------------------------------------------------------

DEFAULT = PoolScope(uuid.uuid4(), True, [], [], at(2020, 1, 1))


def scoped(regions=(), industries=(), created=at(2025, 1, 1), pool_id=None) -> PoolScope:
    return PoolScope(pool_id or uuid.uuid4(), False, list(regions), list(industries), created)


def test_a_region_only_pool_takes_customers_of_its_regions_whatever_the_industry():
    beijing = scoped(regions=["110000"])
    pools = [DEFAULT, beijing]
    assert choose_pool("110000", "retail", pools) == beijing.id
    assert choose_pool("110000", None, pools) == beijing.id
    assert choose_pool("310000", "retail", pools) == DEFAULT.id
    assert choose_pool(None, "retail", pools) == DEFAULT.id


def test_an_industry_only_pool_takes_customers_of_its_industries_whatever_the_region():
    retail = scoped(industries=["retail", "food"])
    pools = [DEFAULT, retail]
    assert choose_pool("310000", "food", pools) == retail.id
    assert choose_pool(None, "retail", pools) == retail.id
    assert choose_pool("310000", "finance", pools) == DEFAULT.id
    assert choose_pool("310000", None, pools) == DEFAULT.id


def test_a_pool_scoped_on_region_and_industry_needs_both_to_match():
    both = scoped(regions=["110000"], industries=["retail"])
    pools = [DEFAULT, both]
    assert choose_pool("110000", "retail", pools) == both.id
    assert choose_pool("110000", "finance", pools) == DEFAULT.id
    assert choose_pool("310000", "retail", pools) == DEFAULT.id
    assert choose_pool(None, None, pools) == DEFAULT.id


def test_the_oldest_matching_scoped_pool_wins_whatever_the_list_order():
    newer = scoped(regions=["110000"], created=at(2025, 6, 1))
    older = scoped(industries=["retail"], created=at(2025, 1, 1))
    assert choose_pool("110000", "retail", [newer, DEFAULT, older]) == older.id
    assert choose_pool("110000", "retail", [DEFAULT, older, newer]) == older.id
    # Only the newer one matches: it wins.
    assert choose_pool("110000", "finance", [newer, DEFAULT, older]) == newer.id


def test_the_default_pool_takes_customers_no_scoped_pool_matches():
    pools = [scoped(regions=["440000"]), DEFAULT, scoped(industries=["finance"])]
    assert choose_pool("110000", "retail", pools) == DEFAULT.id
    assert choose_pool("110000", "retail", [DEFAULT]) == DEFAULT.id


def test_the_default_pool_is_never_chosen_as_a_scoped_match_even_when_oldest():
    # The default pool is the oldest and has empty scopes, yet a matching scoped pool wins.
    scoped_pool = scoped(regions=["110000"], created=at(2025, 1, 1))
    assert choose_pool("110000", None, [DEFAULT, scoped_pool]) == scoped_pool.id


# ---------------------------------------------------------------------------------------------
# Holding cap
# ---------------------------------------------------------------------------------------------

ROOT, CHILD, GRANDCHILD, OTHER = (str(uuid.uuid4()) for _ in range(4))


def test_a_user_without_a_department_gets_the_company_cap():
    assert holding_cap_for(None, 20, {ROOT: 5}) == 20
    assert holding_cap_for("", 20, {ROOT: 5}) == 20


def test_a_department_without_overrides_gets_the_company_cap():
    assert holding_cap_for(f"/{ROOT}/{CHILD}/", 20, {}) == 20


def test_an_override_on_the_root_applies_to_every_descendant():
    caps = {ROOT: 50}
    assert holding_cap_for(f"/{ROOT}/", 20, caps) == 50
    assert holding_cap_for(f"/{ROOT}/{CHILD}/", 20, caps) == 50
    assert holding_cap_for(f"/{ROOT}/{CHILD}/{GRANDCHILD}/", 20, caps) == 50


def test_the_nearest_ancestor_override_beats_a_shallower_one():
    caps = {ROOT: 50, CHILD: 8}
    assert holding_cap_for(f"/{ROOT}/{CHILD}/{GRANDCHILD}/", 20, caps) == 8
    assert holding_cap_for(f"/{ROOT}/{CHILD}/", 20, caps) == 8
    assert holding_cap_for(f"/{ROOT}/", 20, caps) == 50


def test_the_users_own_department_override_beats_every_ancestor():
    caps = {ROOT: 50, CHILD: 8, GRANDCHILD: 3}
    assert holding_cap_for(f"/{ROOT}/{CHILD}/{GRANDCHILD}/", 20, caps) == 3


def test_an_override_of_zero_is_an_override():
    assert holding_cap_for(f"/{ROOT}/{CHILD}/", 20, {CHILD: 0, ROOT: 50}) == 0


def test_an_override_on_an_unrelated_department_does_not_apply():
    assert holding_cap_for(f"/{ROOT}/{CHILD}/", 20, {OTHER: 1}) == 20
    # A sibling or a descendant is not an ancestor.
    assert holding_cap_for(f"/{ROOT}/{CHILD}/", 20, {GRANDCHILD: 1}) == 20


# ---------------------------------------------------------------------------------------------
# Duplicate keys: names
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "北京华联商厦",
        "北京华联商厦有限公司",
        "北京华联商厦股份有限公司",
        "北京华联商厦有限责任公司",
        "北京华联商厦集团有限公司",
        "北京华联商厦公司",
        "北京华联商厦 有限公司",
        " 北京 华联 商厦 ",
        "北京华联商厦\u3000有限公司",
    ],
)
def test_chinese_company_suffixes_and_spaces_do_not_make_a_different_name(name):
    assert normalise_name(name) == "北京华联商厦"


def test_the_issue_example_names_match():
    assert normalise_name("北京华联商厦有限公司") == normalise_name("北京华联商厦")


@pytest.mark.parametrize(
    "name",
    [
        "Acme",
        "ACME",
        "acme",
        "Acme Co., Ltd.",
        "Acme Co.,Ltd.",
        "Acme Co. Ltd",
        "ACME CO., LTD",
        "Acme Ltd",
        "Acme Limited",
        "Acme Company Limited",
        "Acme Inc.",
        "Acme, Inc.",
        "Acme Inc",
        "Acme Incorporated",
        "Acme Corporation",
        "Acme Corp.",
        "Acme LLC",
        "  Acme   Inc.  ",
        "ＡＣＭＥ",
        "Ａｃｍｅ　Ｃｏ．，Ｌｔｄ．",
    ],
)
def test_english_suffixes_case_width_and_spaces_do_not_make_a_different_name(name):
    assert normalise_name(name) == "acme"


def test_full_width_letters_fold_to_ascii_in_a_chinese_name():
    assert normalise_name("ＡＢＣ科技有限公司") == normalise_name("abc科技") == "abc科技"


def test_full_width_parentheses_and_ascii_parentheses_give_the_same_key():
    assert normalise_name("华联（北京）有限公司") == normalise_name("华联(北京)") == "华联北京"


def test_spaces_inside_a_latin_name_are_ignored():
    assert normalise_name("Blue Sky Trading Co., Ltd.") == normalise_name("BlueSky Trading")


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Costco", "costco"),
        ("COSTCO", "costco"),
        ("Costco Wholesale Corporation", "costcowholesale"),
        ("Tesco", "tesco"),
        ("Cisco Inc.", "cisco"),
        ("Disco", "disco"),
        ("Incode", "incode"),
        ("Limitedly", "limitedly"),
    ],
)
def test_a_suffix_is_never_stripped_from_inside_a_word(name, key):
    assert normalise_name(name) == key


def test_a_name_that_is_only_a_suffix_keeps_a_key():
    assert normalise_name("Inc.") != ""
    assert normalise_name("公司") == "公司"


def test_different_companies_keep_different_keys():
    assert normalise_name("北京华联商厦有限公司") != normalise_name("上海华联商厦有限公司")
    assert normalise_name("Acme Co., Ltd.") != normalise_name("Apex Co., Ltd.")


# ---------------------------------------------------------------------------------------------
# Duplicate keys: phones
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "13800138000",
        "+86 13800138000",
        "+8613800138000",
        "+86-138-0013-8000",
        "0086 138 0013 8000",
        "008613800138000",
        "86 138 0013 8000",
        "138-0013-8000",
        "138 0013 8000",
        "(+86) 138 0013 8000",
        "１３８００１３８０００",
        "＋８６ １３８－００１３－８０００",
    ],
)
def test_mobile_numbers_normalise_to_eleven_digits(phone):
    assert normalise_phone(phone) == "13800138000"


@pytest.mark.parametrize(
    ("phone", "key"),
    [
        ("010-65123456", "01065123456"),
        ("(010) 6512 3456", "01065123456"),
        ("0755-8888 6666", "075588886666"),
        ("０１０－６５１２３４５６", "01065123456"),
    ],
)
def test_landlines_keep_their_area_code(phone, key):
    assert normalise_phone(phone) == key


def test_an_eleven_digit_number_starting_with_86_is_not_a_prefixed_mobile():
    # 86 + 9 digits is not a mobile number: nothing is stripped.
    assert normalise_phone("86123456789") == "86123456789"


@pytest.mark.parametrize("phone", [None, "", "   ", "-", "+", "（）"])
def test_an_empty_phone_has_no_key(phone):
    assert normalise_phone(phone) is None
