"""Seed (idempotently) the demo company: a department tree, an admin, managers and ten reps.

`make run` calls it; re-running it changes nothing. Refuses to run in production.
"""

import asyncio
import sys
import uuid

from sqlalchemy import select

from app.auth.passwords import hash_password
from app.config import get_settings
from app.db import dispose_engine, session_factory
from app.org.models import Company, Department, User

DEMO_DOMAIN = "demo.outfield.test"
DEMO_PASSWORD = "outfield-demo"
# Fixed ids so the demo is the same on every machine.
NAMESPACE = uuid.UUID("6f1f3c1e-8d1a-4b8e-9b1e-0d3c5a7e9f10")


def demo_id(name: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, name)


TREE = [  # (key, name, parent key)
    ("head", "总部 Head office", None),
    ("east", "北京东区 Beijing East", "head"),
    ("west", "北京西区 Beijing West", "head"),
    ("east-1", "东区一组 East Team 1", "east"),
    ("east-2", "东区二组 East Team 2", "east"),
    ("west-1", "西区一组 West Team 1", "west"),
]
PEOPLE = [
    ("admin", "管理员 Admin", "admin", "head"),
    ("manager01", "张经理 Manager Zhang", "manager", "east"),
    ("manager02", "李经理 Manager Li", "manager", "west"),
]
PEOPLE += [
    (f"rep{n:02d}", f"销售{n:02d} Rep {n:02d}", "rep", ("east-1", "east-2", "west-1")[(n - 1) % 3])
    for n in range(1, 11)
]


async def seed() -> list[str]:
    """Create what is missing; return the demo logins."""
    company_id = demo_id("company")
    async with session_factory()() as session:
        if await session.get(Company, company_id) is None:
            session.add(
                Company(id=company_id, name="Outfield 演示公司 Demo Co.", time_zone="Asia/Shanghai")
            )
            await session.flush()
        paths: dict[str, str] = {}
        for key, name, parent in TREE:
            department_id = demo_id(f"department:{key}")
            paths[key] = (paths[parent] if parent else "/") + f"{department_id}/"
            if await session.get(Department, department_id) is None:
                session.add(
                    Department(
                        id=department_id,
                        company_id=company_id,
                        name=name,
                        parent_id=demo_id(f"department:{parent}") if parent else None,
                        path=paths[key],
                        version=1,
                    )
                )
                await session.flush()
        existing = set(
            (
                await session.execute(select(User.email).where(User.company_id == company_id))
            ).scalars()
        )
        password_hash = None
        for key, name, role, department in PEOPLE:
            email = f"{key}@{DEMO_DOMAIN}"
            if email in existing:
                continue
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            session.add(
                User(
                    id=demo_id(f"user:{key}"),
                    company_id=company_id,
                    department_id=demo_id(f"department:{department}"),
                    email=email,
                    name=name,
                    role=role,
                    locale="zh-CN",
                    password_hash=password_hash,
                    token_version=1,
                    is_active=True,
                    version=1,
                )
            )
        await session.commit()
    await dispose_engine()
    return [f"{key}@{DEMO_DOMAIN}" for key, *_ in PEOPLE]


def main() -> int:
    if get_settings().is_production:
        print("refusing to seed demo data with OUTFIELD_ENV=production", file=sys.stderr)
        return 1
    logins = asyncio.run(seed())
    print(f"demo data ready: {len(logins)} logins, password '{DEMO_PASSWORD}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
