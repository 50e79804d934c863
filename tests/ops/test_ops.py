import asyncio

from app.core.redis import get_redis
from app.ops.service import HEARTBEAT_KEY, record_run
from tests.helpers import client, signup
from workers.jobs.housekeeping import housekeeping


async def test_healthz_is_ok():
    async with client() as http:
        response = await http.get("/healthz")
        assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_reports_database_migrations_and_redis():
    async with client() as http:
        response = await http.get("/readyz")
        assert response.status_code == 200, response.text
        checks = response.json()["checks"]
        assert checks["database"] == checks["migrations"] == checks["redis"] == "ok"
        assert checks["worker"] == "no heartbeat yet"


async def test_readyz_is_503_problem_when_redis_is_unreachable(monkeypatch):
    from redis.asyncio import Redis

    from app.core import redis as redis_module

    monkeypatch.setattr(redis_module, "_client", Redis.from_url("redis://127.0.0.1:1/0"))
    async with client() as http:
        response = await http.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_ready"
    assert response.json()["checks"]["redis"].startswith("unreachable")


async def test_metrics_count_requests_by_route_template():
    async with client() as http:
        company = await signup(http)
        await http.get(f"/v1/users/{company.admin_id}", headers=company.admin)
        text = (await http.get("/metrics")).text
        assert 'route="/v1/users/{user_id}"' in text
        assert "outfield_http_request_duration_seconds_bucket" in text


async def test_housekeeping_run_is_recorded_and_listed_for_admins():
    run = await record_run("housekeeping", housekeeping, trigger="cli")
    assert run.outcome == "succeeded"
    assert await get_redis().get(HEARTBEAT_KEY) is not None
    async with client() as http:
        company = await signup(http)
        body = (await http.get("/v1/admin/jobs", headers=company.admin)).json()
        assert body["runs"][0]["job"] == "housekeeping"
        assert body["runs"][0]["outcome"] == "succeeded"
        assert body["runs"][0]["finished_at"] is not None
        assert body["schedule"][0]["name"] == "housekeeping"
        ready = (await http.get("/readyz")).json()
        assert ready["checks"]["worker"] == "ok"


async def test_housekeeping_purges_expired_idempotency_records():
    from datetime import timedelta

    from app.core import clock

    async with client() as http:
        company = await signup(http)
        headers = company.admin | {"Idempotency-Key": "old"}
        await http.post("/v1/departments", json={"name": "A"}, headers=headers)
        clock.advance(timedelta(hours=25))
        run = await record_run("housekeeping", housekeeping)
        assert run.counts["idempotency_purged"] == 1
        # After expiry the key is free again: a different body is a new request.
        headers = await company.relogin_admin() | {"Idempotency-Key": "old"}
        again = await http.post("/v1/departments", json={"name": "B"}, headers=headers)
        assert again.status_code == 201


async def test_admin_can_queue_a_job_run_for_the_worker():
    async with client() as http:
        company = await signup(http)
        response = await http.post("/v1/admin/jobs/housekeeping/run", headers=company.admin)
        assert response.status_code == 202
        assert response.json()["queued_job_id"].startswith("manual:housekeeping:")
        assert await get_redis().zcard("arq:queue") == 1
        unknown = await http.post("/v1/admin/jobs/nope/run", headers=company.admin)
        assert unknown.status_code == 404


async def test_failing_job_is_recorded_as_failed():
    async def broken(counts):
        counts["examined"] = 3
        await asyncio.sleep(0)
        raise RuntimeError("boom")

    run = await record_run("housekeeping", broken)
    assert run.outcome == "failed" and run.counts == {"examined": 3} and "boom" in run.error


async def test_readyz_reports_a_stale_worker_and_can_require_it(monkeypatch):
    from datetime import timedelta

    from app.config import get_settings
    from app.core import clock
    from app.ops.service import write_heartbeat

    await write_heartbeat(clock.now() - timedelta(minutes=10))
    async with client() as http:
        ready = await http.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"]["worker"] == "stale"
        monkeypatch.setenv("OUTFIELD_READY_REQUIRES_WORKER", "true")
        get_settings.cache_clear()
        try:
            strict = await http.get("/readyz")
            assert strict.status_code == 503 and strict.json()["checks"]["worker"] == "stale"
        finally:
            monkeypatch.undo()
            get_settings.cache_clear()


def test_cli_runs_one_job_and_records_it():
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "workers", "run-once", "recycle"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("recycle: succeeded")
