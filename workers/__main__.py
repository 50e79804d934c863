"""`python -m workers run-once <job>`: run one job now, without the API or the queue."""

import argparse
import asyncio
import sys

from app.config import get_settings
from app.core.observability import configure_logging
from app.core.redis import close_redis
from app.db import dispose_engine
from app.ops.service import record_run
from workers.registry import JOB_BODIES


async def _run_once(name: str) -> int:
    try:
        run = await record_run(name, JOB_BODIES[name], trigger="cli")
    finally:
        await dispose_engine()
        await close_redis()
    print(f"{name}: {run.outcome} {run.counts}")
    return 0 if run.outcome == "succeeded" else 1


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m workers")
    sub = parser.add_subparsers(dest="command", required=True)
    once = sub.add_parser("run-once", help="run one job now and record it in job_runs")
    once.add_argument("job", choices=sorted(JOB_BODIES))
    args = parser.parse_args()
    configure_logging(get_settings().log_level)
    return asyncio.run(_run_once(args.job))


if __name__ == "__main__":
    sys.exit(main())
