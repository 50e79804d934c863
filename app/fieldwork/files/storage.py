"""Where file bytes live: a small key → bytes interface, local disk by default.

Keys are `<company_id>/<sha256>`: content-addressed, so writing the same key twice is
harmless. An S3-compatible store only has to implement the four methods of `Storage`.
"""

import asyncio
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from app.config import get_settings

_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")


class MissingObject(KeyError):
    """The key has no stored bytes."""


class Storage(Protocol):
    """A blob store addressed by key."""

    async def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, replacing what was there, all or nothing."""
        ...

    async def get(self, key: str) -> bytes:
        """The bytes under `key`, or MissingObject."""
        ...

    async def exists(self, key: str) -> bool:
        """Whether `key` has bytes."""
        ...

    async def delete(self, key: str) -> None:
        """Remove `key` (no error when it is already gone)."""
        ...


def check_key(key: str) -> str:
    """`key` if it is a relative path of safe segments (no `..` or leading `/`), else ValueError."""
    if len(key) > 200 or not _KEY.fullmatch(key):
        raise ValueError(f"not a valid storage key: {key!r}")
    return key


class LocalDiskStorage:
    """Files under a root folder; writes go to a temporary file that is then renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Same folder as the target, so os.replace is an atomic rename on one file system.
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _read(self, path: Path) -> bytes:
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise MissingObject(str(path.relative_to(self.root))) from exc

    async def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key` atomically."""
        await asyncio.to_thread(self._write, self._path(key), data)

    async def get(self, key: str) -> bytes:
        """The bytes under `key`, or MissingObject."""
        return await asyncio.to_thread(self._read, self._path(key))

    async def exists(self, key: str) -> bool:
        """Whether `key` has bytes."""
        return await asyncio.to_thread(self._path(key).is_file)

    async def delete(self, key: str) -> None:
        """Remove `key` if present."""
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)


def get_storage() -> Storage:
    """The configured store (read from settings on each call, so tests can point it elsewhere)."""
    return LocalDiskStorage(Path(get_settings().files_dir))
