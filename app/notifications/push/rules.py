"""Pure decisions of push delivery: when to try again, and what a try came to."""

import random
from collections.abc import Iterable

from app.notifications.delivery import Backoff, backoff_delay

# Never wait longer than this between tries, whatever the attempt number.
MAX_BACKOFF_S = 6 * 3600.0
# A provider's Retry-After is honoured up to a day.
MAX_RETRY_AFTER_S = 24 * 3600.0


def backoff_rule(base_s: float) -> Backoff:
    """Push's retry schedule: base doubling per try, at most 6 h, jittered to 50–100 %."""
    return Backoff(base_s, MAX_BACKOFF_S, 0.5, 1.0, MAX_RETRY_AFTER_S)


def backoff_seconds(
    attempt: int,
    base_s: float,
    retry_after_s: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Delay before try `attempt + 1`: base · 2^(attempt-1), jittered to 50–100 %, ≥ Retry-After."""
    return backoff_delay(attempt, backoff_rule(base_s), retry_after_s, rng)


def notification_outcome(outcomes: Iterable[str], attempt: int, max_attempts: int) -> str:
    """The notification's push_state after a try, from its devices' outcomes.

    Any device reached → `sent`; none to try → `no_devices`; something worth retrying →
    `pending` again, or `dead` after the last attempt; every token invalid → `no_devices`;
    otherwise `failed`.
    """
    seen = set(outcomes)
    if "sent" in seen:
        return "sent"
    if not seen or seen == {"invalid_token"}:
        return "no_devices"
    if "retry" in seen:
        return "pending" if attempt < max_attempts else "dead"
    return "failed"
