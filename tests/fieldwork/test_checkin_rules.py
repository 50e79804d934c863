"""Plausibility flags, one test per flag, with the figures that raise it."""

from datetime import UTC, datetime, timedelta

import pytest

from app.fieldwork.checkins import rules

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
LIMITS = rules.CheckinThresholds()


@pytest.fixture(autouse=True)
def _isolated():
    """Pure tests: no database reset needed."""
    yield


def facts(**overrides) -> rules.CheckinFacts:
    base = dict(
        latitude=39.9087,
        longitude=116.3975,
        accuracy_m=10,
        client_recorded_at=T0,
        received_at=T0,
        offline=False,
        mock_location=False,
        customer_latitude=39.9087,
        customer_longitude=116.3975,
        previous=None,
        duplicate_position=False,
        photos=(),
    )
    return rules.CheckinFacts(**(base | overrides))


def codes(f: rules.CheckinFacts, limits: rules.CheckinThresholds = LIMITS) -> dict[str, dict]:
    return {flag["code"]: flag for flag in rules.plausibility_flags(f, limits)}


def test_a_clean_check_in_raises_no_flags():
    assert codes(facts()) == {}


def test_far_from_customer_over_300_m():
    # 0.004° of latitude ≈ 445 m.
    flag = codes(facts(customer_latitude=39.9127))["far_from_customer"]
    assert 440 < flag["distance_m"] < 450 and flag["threshold_m"] == 300
    assert "far_from_customer" not in codes(facts(customer_latitude=39.9107))  # ≈ 222 m


def test_no_customer_location_means_no_distance_flag():
    assert codes(facts(customer_latitude=None, customer_longitude=None)) == {}


def test_low_accuracy_over_100_m():
    assert codes(facts(accuracy_m=150))["low_accuracy"] == {
        "code": "low_accuracy",
        "accuracy_m": 150,
        "threshold_m": 100,
    }
    assert "low_accuracy" not in codes(facts(accuracy_m=100))


def test_impossible_speed_over_150_kmh():
    # Shanghai 30 minutes earlier: ~1,067 km in half an hour.
    previous = rules.PreviousCheckin(31.2304, 121.4737, T0 - timedelta(minutes=30))
    flag = codes(facts(previous=previous))["impossible_speed"]
    assert flag["speed_kmh"] > 2000 and flag["threshold_kmh"] == 150
    # 10 km in 10 minutes = 60 km/h is fine.
    nearby = rules.PreviousCheckin(39.8188, 116.3975, T0 - timedelta(minutes=10))
    assert "impossible_speed" not in codes(facts(previous=nearby))


def test_clock_skew_online_beyond_10_minutes_either_way():
    assert (
        codes(facts(client_recorded_at=T0 - timedelta(minutes=11)))["clock_skew"]["skew_s"] == -660
    )
    assert "clock_skew" in codes(facts(client_recorded_at=T0 + timedelta(minutes=11)))
    assert "clock_skew" not in codes(facts(client_recorded_at=T0 - timedelta(minutes=9)))


def test_offline_submissions_are_not_skewed_by_arriving_late_only_by_future_times():
    assert "clock_skew" not in codes(
        facts(offline=True, client_recorded_at=T0 - timedelta(hours=6))
    )
    flag = codes(facts(offline=True, client_recorded_at=T0 + timedelta(hours=1)))["clock_skew"]
    assert flag["offline"] is True and flag["skew_s"] == 3600


def test_mock_location_as_reported_by_the_os():
    assert codes(facts(mock_location=True))["mock_location"] == {"code": "mock_location"}


def test_duplicate_position():
    flag = codes(facts(duplicate_position=True))["duplicate_position"]
    assert flag["latitude"] == 39.9087 and flag["longitude"] == 116.3975


def test_photo_far_and_photo_stale_from_exif():
    far_photo = rules.Photo(taken_at=T0, latitude=39.95, longitude=116.3975)  # ~4.6 km north
    flag = codes(facts(photos=(far_photo,)))["photo_far"]
    assert 4500 < flag["distance_m"] < 4700
    stale_photo = rules.Photo(taken_at=T0 - timedelta(days=2), latitude=None, longitude=None)
    assert codes(facts(photos=(stale_photo,)))["photo_stale"]["seconds"] == 172800
    fresh_near = rules.Photo(
        taken_at=T0 - timedelta(minutes=5), latitude=39.9088, longitude=116.3975
    )
    assert codes(facts(photos=(fresh_near,))) == {}


def test_far_or_mocked_check_ins_do_not_count_as_follow_ups_unless_the_company_says_so():
    far = rules.plausibility_flags(facts(customer_latitude=39.95), LIMITS)
    assert rules.counts_as_followup(far, LIMITS) is False
    lenient = rules.CheckinThresholds(count_far_as_followup=True)
    assert rules.counts_as_followup(far, lenient) is True
    mocked = rules.plausibility_flags(facts(mock_location=True), LIMITS)
    assert rules.counts_as_followup(mocked, LIMITS) is False
    low = rules.plausibility_flags(facts(accuracy_m=500), LIMITS)
    assert rules.counts_as_followup(low, LIMITS) is True


def test_thresholds_come_from_company_settings_with_defaults():
    limits = rules.CheckinThresholds.from_settings(
        {"checkins": {"far_from_customer_m": 50, "unknown": 1}}
    )
    assert limits.far_from_customer_m == 50 and limits.low_accuracy_m == 100
    assert "far_from_customer" in codes(facts(customer_latitude=39.9093), limits)  # ~67 m
