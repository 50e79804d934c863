"""Helpers shared by the field-work and worker benchmarks (HTTP client, uvicorn, quiet machine).

The minimal keep-alive HTTP/1.1 client of `bench.customer_lists` only GETs; `HTTP` here adds
POST with a body, on the same principle (one connection per client, least client overhead).
"""

import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.customer_lists import free_port, pad, pct  # noqa: F401 - re-exported

REPO = Path(__file__).resolve().parent.parent
DOMAIN = "bench.outfield.test"

# Other benchmarks whose figures (or ours) would be distorted if both ran at once.
OTHER_BENCH = re.compile(r"bench\.|uvicorn|benchprof|pytest")


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def _ppid(pid: int | str) -> int:
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _own_tree() -> set[int]:
    """This process, its ancestors and its descendants (ours, not 'another benchmark')."""
    ours = {os.getpid()}
    pid = os.getppid()
    while pid > 1:
        ours.add(pid)
        try:
            pid = _ppid(pid)
        except (OSError, ValueError, IndexError):
            break
    descendants = {os.getpid()}
    changed = True
    while changed:
        changed = False
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in descendants:
                continue
            try:
                parent = _ppid(entry)
            except (OSError, ValueError, IndexError):
                continue
            if parent in descendants:
                descendants.add(int(entry))
                changed = True
    return ours | descendants


def other_benchmarks() -> list[str]:
    """Command lines of other benchmark-like processes (see OTHER_BENCH) not started by us."""
    ours = _own_tree()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in ours:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if cmd and OTHER_BENCH.search(cmd) and "grep" not in cmd:
            found.append(f"{entry}: {cmd[:120]}")
    return found


def wait_for_quiet(max_wait_s: float = 3600, settle_s: float = 5, label: str = "") -> None:
    """Block until no other benchmark runs (polling), then let the load settle a little."""
    started = time.monotonic()
    said = False
    while True:
        others = other_benchmarks()
        if not others:
            break
        if not said:
            log(f"waiting for other benchmark processes to finish {label}: " + "; ".join(others))
            said = True
        if time.monotonic() - started > max_wait_s:
            log("still not quiet after the maximum wait; measuring anyway (figures suspect)")
            break
        time.sleep(5)
    if said:
        time.sleep(settle_s)
    log(f"quiet {label} — load average {loadavg()}")


# ---------- a minimal keep-alive HTTP/1.1 client with POST ----------


class HTTP:
    """One keep-alive connection; GET or POST; returns (status, body bytes)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = 0.0

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.used = time.monotonic()

    async def ready(self) -> None:
        """Reconnect (call it outside the timing) if the server closed the connection or is
        about to: uvicorn closes keep-alive connections idle for 5 s."""
        if self.reader is None or self.reader.at_eof() or time.monotonic() - self.used > 4:
            await self.close()
            await self.connect()

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.reader = self.writer = None

    async def request(
        self,
        method: str,
        target: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        self.used = time.monotonic()
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("the server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked = None, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if length is not None:
            data = await self.reader.readexactly(length)
            self.used = time.monotonic()
            return status, data
        data = bytearray()
        if chunked:
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                data += await self.reader.readexactly(size)
                await self.reader.readline()
        self.used = time.monotonic()
        return status, bytes(data)

    async def get(self, target: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        return await self.request("GET", target, headers)

    async def post_json(
        self, target: str, payload: object, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return await self.request(
            "POST", target, {**(headers or {}), "Content-Type": "application/json"}, body
        )

    async def post_form(
        self, target: str, form: str, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        return await self.request(
            "POST",
            target,
            {**(headers or {}), "Content-Type": "application/x-www-form-urlencoded"},
            form.encode(),
        )


# ---------- uvicorn in a subprocess ----------


class Server:
    """`python -m uvicorn <app>` on a free loopback port (the Dockerfile's command otherwise)."""

    def __init__(self, app: str, env: dict[str, str], name: str, workers: int = 1) -> None:
        self.app, self.env, self.name, self.workers = app, env, name, workers
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix=f"outfield-bench-{name}-", suffix=".log", delete=False
        )
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", self.app, "--host", "127.0.0.1", "--port",
             str(self.port)] + (["--workers", str(self.workers)] if self.workers > 1 else []),
            cwd=REPO, env={**os.environ, **self.env}, stdout=subprocess.DEVNULL,
            stderr=self.log,
        )  # fmt: skip

    async def wait_ready(self, path: str = "/healthz", limit_s: float = 60) -> None:
        http = HTTP("127.0.0.1", self.port)
        deadline = time.monotonic() + limit_s
        try:
            while True:
                try:
                    await http.connect()
                    status, _ = await http.get(path)
                    if status == 200:
                        return
                except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                    pass
                await http.close()
                assert self.process is not None
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise SystemExit(f"{self.name} did not come up; its log: {self.log.name}")
                await asyncio.sleep(0.2)
        finally:
            await http.close()

    def cpu_seconds(self) -> float:
        """CPU used so far by the server: the process and (with --workers) its workers."""
        assert self.process is not None
        return cpu_seconds(self.process.pid) + children_cpu_seconds(self.process.pid)

    def rss_bytes(self) -> int:
        """Resident memory of the server now: the process and (with --workers) its workers."""
        assert self.process is not None
        return rss_bytes(self.process.pid) + sum(
            rss_bytes(child) for child in children(self.process.pid)
        )

    def stop(self, keep_log: bool = False) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if not keep_log:
            with contextlib.suppress(OSError):
                os.unlink(self.log.name)


def app_env(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "OUTFIELD_ENV": "development",
        "OUTFIELD_ACCESS_TOKEN_TTL_S": "7200",
    }


async def check_head(conn) -> None:  # noqa: ANN001
    """Refuse to run against a bench database behind the migrations."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(Config(str(REPO / "alembic.ini"))).get_heads())
    current = {r[0] for r in await conn.fetch("SELECT version_num FROM alembic_version")}
    if current != heads:
        raise SystemExit(
            f"the bench database is at {sorted(current)}, the code at {sorted(heads)}: run "
            "`DATABASE_URL=… .venv/bin/alembic upgrade head` against it"
        )


async def clear_login_limits(redis_url: str) -> None:
    """The login rate limit (10 per window per user and IP): clear our own counters."""
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    try:
        async for key in redis.scan_iter(match=f"outfield:login:*@{DOMAIN}"):
            await redis.delete(key)
    finally:
        await redis.aclose()


async def login(port: int, emails: list[str], password: str) -> dict[str, str]:
    """email → access token, through POST /v1/auth/token on the running server."""
    from urllib.parse import urlencode

    http = HTTP("127.0.0.1", port)
    await http.connect()
    tokens = {}
    try:
        for email in emails:
            await http.ready()
            status, body = await http.post_form(
                "/v1/auth/token", urlencode({"username": email, "password": password})
            )
            if status != 200:
                raise SystemExit(f"login failed for {email}: {status} {body[:300]!r}")
            tokens[email] = json.loads(body)["access_token"]
    finally:
        await http.close()
    return tokens


def summary(samples: list[float]) -> tuple[int, float, float, float, float]:
    """(n, p50, p99, mean, max) in the samples' unit."""
    if not samples:
        return 0, float("nan"), float("nan"), float("nan"), float("nan")
    return (
        len(samples),
        pct(samples, 50),
        pct(samples, 99),
        sum(samples) / len(samples),
        max(samples),
    )


# ---------- CPU accounting from /proc ----------

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, ValueError, IndexError):
        return 0.0


def children(parent: int) -> list[int]:
    """The live children of `parent`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if _ppid(entry) == parent:
                    found.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return found


def children_cpu_seconds(parent: int) -> float:
    """CPU time of every live child of `parent` (e.g. all backends of one postmaster)."""
    return sum(cpu_seconds(child) for child in children(parent))


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (VmRSS in /proc/<pid>/status; 0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


async def postmaster_pid(conn) -> int | None:  # noqa: ANN001
    """The postmaster of the server `conn` talks to, if it runs on this machine."""
    backend = await conn.fetchval("SELECT pg_backend_pid()")
    try:
        return _ppid(backend)
    except (OSError, ValueError, IndexError):
        return None


class Intruders:
    """Polls (in a thread, once a second) for other benchmark-like processes during a
    measurement, so a result disturbed by one that started meanwhile says so."""

    def __init__(self) -> None:
        import threading

        self.seen: dict[str, None] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            for line in other_benchmarks():
                self.seen.setdefault(line, None)

    def __enter__(self) -> "Intruders":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def verdict(self) -> str:
        if not self.seen:
            return "undisturbed (no other benchmark process seen during the measurement)"
        return "DISTURBED — other processes ran meanwhile: " + "; ".join(list(self.seen)[:4])
