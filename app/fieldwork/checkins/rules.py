"""Pure decisions about check-ins: plausibility flags and whether a visit moves the clock.

Flags never reject a check-in; each carries the figures that raised it, so a manager can
judge. Thresholds come from the company's settings (defaults below).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.core.geo import haversine_m

FAR_FROM_CUSTOMER = "far_from_customer"
LOW_ACCURACY = "low_accuracy"
IMPOSSIBLE_SPEED = "impossible_speed"
CLOCK_SKEW = "clock_skew"
MOCK_LOCATION = "mock_location"
DUPLICATE_POSITION = "duplicate_position"
PHOTO_FAR = "photo_far"
PHOTO_STALE = "photo_stale"


class CheckinThresholds(BaseModel):
    """Company-tunable thresholds: `companies.settings["checkins"]`, the `checkins` part of
    the company's settings (`app.org.settings.CompanySettings`, `PATCH /v1/company/settings`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    far_from_customer_m: float = Field(300.0, gt=0, le=100_000)
    low_accuracy_m: float = Field(100.0, gt=0, le=100_000)
    max_speed_kmh: float = Field(150.0, gt=0, le=2_000)
    clock_skew_s: float = Field(600.0, gt=0, le=86_400)
    photo_far_m: float = Field(500.0, gt=0, le=100_000)
    photo_stale_s: float = Field(3600.0, gt=0, le=604_800)
    count_far_as_followup: bool = False
    count_mock_as_followup: bool = False

    @classmethod
    def from_settings(cls, settings: dict[str, Any] | None) -> "CheckinThresholds":
        """Thresholds from a company's settings JSON: defaults for what is missing, unknown
        keys ignored, and a stored value that no longer validates read as its default."""
        values = (settings or {}).get("checkins")
        if not isinstance(values, dict):
            return cls()
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            bad = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
            return cls.model_validate({k: v for k, v in values.items() if k not in bad})


@dataclass(frozen=True)
class PreviousCheckin:
    latitude: float
    longitude: float
    client_recorded_at: datetime


@dataclass(frozen=True)
class Photo:
    taken_at: datetime | None
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class CheckinFacts:
    latitude: float
    longitude: float
    accuracy_m: float | None
    client_recorded_at: datetime
    received_at: datetime
    offline: bool
    mock_location: bool
    customer_latitude: float | None
    customer_longitude: float | None
    previous: PreviousCheckin | None
    duplicate_position: bool
    photos: tuple[Photo, ...] = ()


def distance_to_customer(facts: CheckinFacts) -> float | None:
    """Metres from the check-in to the customer's stored location (None when it has none)."""
    if facts.customer_latitude is None or facts.customer_longitude is None:
        return None
    return haversine_m(
        facts.latitude, facts.longitude, facts.customer_latitude, facts.customer_longitude
    )


def plausibility_flags(facts: CheckinFacts, limits: CheckinThresholds) -> list[dict[str, Any]]:
    """Every flag the check-in raises, each with its figures and threshold."""
    flags: list[dict[str, Any]] = []
    distance = distance_to_customer(facts)
    if distance is not None and distance > limits.far_from_customer_m:
        flags.append(
            {
                "code": FAR_FROM_CUSTOMER,
                "distance_m": round(distance, 1),
                "threshold_m": limits.far_from_customer_m,
            }
        )
    if facts.accuracy_m is not None and facts.accuracy_m > limits.low_accuracy_m:
        flags.append(
            {
                "code": LOW_ACCURACY,
                "accuracy_m": facts.accuracy_m,
                "threshold_m": limits.low_accuracy_m,
            }
        )
    if facts.previous is not None:
        metres = haversine_m(
            facts.previous.latitude, facts.previous.longitude, facts.latitude, facts.longitude
        )
        seconds = abs(
            (facts.client_recorded_at - facts.previous.client_recorded_at).total_seconds()
        )
        speed = (
            metres / 1000 / (seconds / 3600)
            if seconds > 0
            else (float("inf") if metres > 50 else 0)
        )
        if speed > limits.max_speed_kmh:
            flags.append(
                {
                    "code": IMPOSSIBLE_SPEED,
                    "speed_kmh": round(speed, 1) if speed != float("inf") else None,
                    "distance_m": round(metres, 1),
                    "seconds": seconds,
                    "threshold_kmh": limits.max_speed_kmh,
                }
            )
    skew = (facts.client_recorded_at - facts.received_at).total_seconds()
    # Offline submissions arrive late by design: only a client time in the future is wrong.
    if (facts.offline and skew > limits.clock_skew_s) or (
        not facts.offline and abs(skew) > limits.clock_skew_s
    ):
        flags.append(
            {
                "code": CLOCK_SKEW,
                "skew_s": round(skew, 1),
                "offline": facts.offline,
                "threshold_s": limits.clock_skew_s,
            }
        )
    if facts.mock_location:
        flags.append({"code": MOCK_LOCATION})
    if facts.duplicate_position:
        flags.append(
            {
                "code": DUPLICATE_POSITION,
                "latitude": round(facts.latitude, 6),
                "longitude": round(facts.longitude, 6),
            }
        )
    for photo in facts.photos:
        if photo.latitude is not None and photo.longitude is not None:
            away = haversine_m(photo.latitude, photo.longitude, facts.latitude, facts.longitude)
            if away > limits.photo_far_m:
                flags.append(
                    {
                        "code": PHOTO_FAR,
                        "distance_m": round(away, 1),
                        "threshold_m": limits.photo_far_m,
                    }
                )
        if photo.taken_at is not None:
            age = abs((facts.client_recorded_at - photo.taken_at).total_seconds())
            if age > limits.photo_stale_s:
                flags.append(
                    {
                        "code": PHOTO_STALE,
                        "seconds": round(age),
                        "threshold_s": limits.photo_stale_s,
                    }
                )
    return flags


def counts_as_followup(flags: list[dict[str, Any]], limits: CheckinThresholds) -> bool:
    """A check-in moves the follow-up clock unless it is far or mocked (company's choice)."""
    codes = {flag["code"] for flag in flags}
    if FAR_FROM_CUSTOMER in codes and not limits.count_far_as_followup:
        return False
    return not (MOCK_LOCATION in codes and not limits.count_mock_as_followup)


def position_key(latitude: float, longitude: float) -> str:
    """Coordinates to 6 decimals: identical keys are identical positions."""
    return f"{latitude:.6f},{longitude:.6f}"
