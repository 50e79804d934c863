"""Argon2id password hashing (argon2-cffi's defaults are Argon2id, RFC 9106 low-memory) and
the password policy every password set through the API passes (zxcvbn)."""

import re
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from starlette.concurrency import run_in_threadpool

# zxcvbn ships no types (stubs: types-zxcvbn, not among the dev requirements yet).
from zxcvbn import zxcvbn  # type: ignore[import-untyped]

from app.auth import errors
from app.core.errors import Loc

# zxcvbn's score, 0–4: 3 is "safely unguessable" (an estimated 10^8 guesses or more), which
# refuses common passwords, keyboard walks, dates and the user's own name or e-mail.
MIN_SCORE = 3
# zxcvbn's own bound (it raises beyond it; its matching grows fast with length): a longer
# password is judged by its first 72 characters.
_ZXCVBN_MAX_LENGTH = 72

_hasher = PasswordHasher()
# Verifying against this when the user is unknown keeps login timing uniform.
_DUMMY_HASH = _hasher.hash("outfield-timing-equaliser")


def hash_password(password: str) -> str:
    """An Argon2id hash of `password`."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; spends the same time when there is no hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


async def hash_password_async(password: str) -> str:
    """hash_password off the event loop (Argon2 takes tens of milliseconds of CPU)."""
    return await run_in_threadpool(hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    """verify_password off the event loop."""
    return await run_in_threadpool(verify_password, password_hash, password)


def _hints(user_inputs: Iterable[str | None]) -> list[str]:
    """The words a password must not lean on: each input and its parts (e-mail local part,
    name words), lower-cased."""
    hints = {"outfield"}
    for value in user_inputs:
        if value:
            hints.add(value.lower())
            hints.update(part for part in re.split(r"[\W_]+", value.lower()) if len(part) > 2)
    return sorted(hints)


def check_password_policy(
    password: str, *, loc: Loc, user_inputs: Iterable[str | None] = ()
) -> None:
    """Raise 422 `weak_password` (naming the field at `loc`, with zxcvbn's feedback) unless
    zxcvbn scores `password` at least MIN_SCORE. The length bounds are the schemas' (8–200)."""
    result = zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=_hints(user_inputs))
    if result["score"] < MIN_SCORE:
        feedback = result.get("feedback") or {}
        raise errors.weak_password(
            loc,
            score=int(result["score"]),
            warning=str(feedback.get("warning") or ""),
            suggestions=[str(item) for item in feedback.get("suggestions") or []],
        )


async def check_password_policy_async(
    password: str, *, loc: Loc, user_inputs: Iterable[str | None] = ()
) -> None:
    """check_password_policy off the event loop (zxcvbn takes up to ~0.1 s on long input)."""
    await run_in_threadpool(check_password_policy, password, loc=loc, user_inputs=list(user_inputs))
