"""Pure push decisions: backoff, a try's outcome, FCM's data rules, VAPID key formats."""

import random
import uuid

from cryptography.hazmat.primitives.asymmetric import ec

from app.notifications.push.common import PushMessage
from app.notifications.push.fcm import fcm_data
from app.notifications.push.rules import backoff_seconds, notification_outcome
from app.notifications.push.webpush import load_vapid_key
from tests.notifications.fake_providers import b64url, pem


def test_backoff_doubles_with_jitter_and_honours_retry_after():
    rng = random.Random(7)
    for attempt in range(1, 6):
        delay = backoff_seconds(attempt, 30, rng=rng)
        assert 30 * 2 ** (attempt - 1) * 0.5 <= delay <= 30 * 2 ** (attempt - 1)
    assert backoff_seconds(1, 30, retry_after_s=600, rng=rng) == 600
    assert backoff_seconds(40, 30, rng=rng) <= 6 * 3600


def test_outcome_of_a_try_from_its_devices():
    assert notification_outcome([], 1, 5) == "no_devices"
    assert notification_outcome(["retry", "sent"], 1, 5) == "sent"
    assert notification_outcome(["invalid_token"], 1, 5) == "no_devices"
    assert notification_outcome(["retry", "invalid_token"], 4, 5) == "pending"
    assert notification_outcome(["retry", "failed"], 5, 5) == "dead"
    assert notification_outcome(["failed", "invalid_token"], 1, 5) == "failed"


def test_vapid_key_may_be_a_pem_or_a_base64url_raw_key():
    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.private_numbers().private_value.to_bytes(32, "big")
    from_raw = load_vapid_key(b64url(raw))
    from_pem = load_vapid_key(pem(key))
    assert from_raw.public_key.public_numbers() == from_pem.public_key.public_numbers()


def test_fcm_data_is_strings_without_fcm_reserved_keys():
    message = PushMessage.of(
        uuid.uuid4(),
        "comment",
        "New comment",
        "x" * 2000,
        None,
        {"from": "a", "google.sent": 1, "gcm_x": 2, "count": 3, "nested": {"a": [1]}},
    )
    assert fcm_data(message) == {
        "count": "3",
        "nested": '{"a":[1]}',
        "notification_id": str(message.notification_id),
        "kind": "comment",
    }
    assert len(message.body) == 500 and message.body.endswith("…")
