"""The process-wide Redis client."""

from redis.asyncio import Redis

from app.config import get_settings

_client: Redis | None = None


def get_redis() -> Redis:
    """The shared client (created on first use)."""
    global _client
    if _client is None:
        _client = Redis.from_url(get_settings().redis_url, decode_responses=True)
    return _client


async def close_redis() -> None:
    """Close the shared client (shutdown, tests)."""
    global _client
    if _client is not None:
        await _client.aclose()
    _client = None
