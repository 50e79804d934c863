"""Argon2id password hashing (argon2-cffi's defaults are Argon2id, RFC 9106 low-memory)."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from starlette.concurrency import run_in_threadpool

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
