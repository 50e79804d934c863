"""The database itself refuses a row of one company that points at a row of another.

Plain SQL, past the API and its company filters: the composite foreign keys of 0009
((company_id, x_id) → (company_id, id)) are what stops it. Each case is first inserted
pointing within its own company, so the failure is the foreign key and nothing else.
"""

import os
import uuid
from dataclasses import dataclass

import asyncpg
import pytest

from tests.customers.helpers import create_customer
from tests.helpers import client, signup


@dataclass(frozen=True)
class Tenant:
    company_id: uuid.UUID
    user_id: uuid.UUID
    customer_id: uuid.UUID


async def _tenants() -> tuple[Tenant, Tenant]:
    async with client() as http:
        made = []
        for name in ("Acme", "Globex"):
            company = await signup(http, name=name)
            customer = await create_customer(http, company.admin, f"{name} Trading")
            made.append(
                Tenant(
                    uuid.UUID(company.id), uuid.UUID(company.admin_id), uuid.UUID(customer["id"])
                )
            )
    return made[0], made[1]


CHECKIN = """
INSERT INTO checkins (id, company_id, user_id, customer_id, latitude, longitude, position_key,
                      submitted_crs, client_recorded_at, received_at, request_hash, created_at)
VALUES ($1, $2, $3, $4, 39.9, 116.4, 'wx4g0', 'wgs84', now(), now(), 'h', now())
"""
FOLLOWUP = """
INSERT INTO followups (id, company_id, user_id, customer_id, kind, text, request_hash,
                       created_at, updated_at)
VALUES ($1, $2, $3, $4, 'call', 'called', 'h', now(), now())
"""
FEED_ITEM = """
INSERT INTO feed_items (id, company_id, author_id, customer_id, kind, subject_type, subject_id,
                        created_at)
VALUES ($1, $2, $3, $4, 'followup', 'followup', gen_random_uuid(), now())
"""
CONTACT = """
INSERT INTO customer_contacts (id, company_id, customer_id, name, created_at, updated_at)
SELECT $1, $2, $4, 'Ms Li', now(), now() WHERE $3::uuid IS NOT NULL
"""
VISIT_PLAN = """
INSERT INTO visit_plans (id, company_id, user_id, customer_id, plan_date, created_by,
                         request_hash, created_at, updated_at)
VALUES ($1, $2, $3, $4, current_date, $3, 'h', now(), now())
"""


@pytest.mark.parametrize(
    ("statement", "constraint"),
    [
        (CHECKIN, "fk_checkins_customer_id_customers"),
        (FOLLOWUP, "fk_followups_customer_id_customers"),
        (FEED_ITEM, "fk_feed_items_customer_id_customers"),
        (CONTACT, "fk_customer_contacts_customer_id_customers"),
        (VISIT_PLAN, "fk_visit_plans_customer_id_customers"),
    ],
    ids=["checkin", "followup", "feed_item", "contact", "visit_plan"],
)
async def test_a_row_cannot_point_at_a_customer_of_another_company(
    statement: str, constraint: str
) -> None:
    acme, globex = await _tenants()
    connection = await asyncpg.connect(os.environ["DATABASE_URL"])
    try:
        await connection.execute(
            statement, uuid.uuid4(), acme.company_id, acme.user_id, acme.customer_id
        )
        with pytest.raises(asyncpg.ForeignKeyViolationError) as refused:
            await connection.execute(
                statement, uuid.uuid4(), acme.company_id, acme.user_id, globex.customer_id
            )
    finally:
        await connection.close()
    assert refused.value.constraint_name == constraint


async def test_a_checkin_cannot_be_by_a_user_of_another_company() -> None:
    acme, globex = await _tenants()
    connection = await asyncpg.connect(os.environ["DATABASE_URL"])
    try:
        with pytest.raises(asyncpg.ForeignKeyViolationError) as refused:
            await connection.execute(
                CHECKIN, uuid.uuid4(), acme.company_id, globex.user_id, acme.customer_id
            )
    finally:
        await connection.close()
    assert refused.value.constraint_name == "fk_checkins_user_id_users"


async def test_a_row_cannot_be_moved_under_another_company() -> None:
    """Changing company_id alone leaves the references behind: refused too."""
    acme, globex = await _tenants()
    connection = await asyncpg.connect(os.environ["DATABASE_URL"])
    try:
        checkin_id = uuid.uuid4()
        await connection.execute(
            CHECKIN, checkin_id, acme.company_id, acme.user_id, acme.customer_id
        )
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await connection.execute(
                "UPDATE checkins SET company_id = $2 WHERE id = $1", checkin_id, globex.company_id
            )
    finally:
        await connection.close()


async def test_a_device_with_push_attempts_moves_to_a_user_of_another_company() -> None:
    """A device row never changes company: registered again elsewhere, the old one (with the
    push attempts of its company) goes and the token lives on under the caller's company."""
    async with client() as http:
        acme = await signup(http, name="Acme")
        globex = await signup(http, name="Globex")
        body = {"platform": "fcm", "token": "f" * 24 + ":" + "A" * 140}
        device = await http.post("/v1/devices", json=body, headers=acme.admin)
        assert device.status_code == 201, device.text
        connection = await asyncpg.connect(os.environ["DATABASE_URL"])
        try:
            notification_id = uuid.uuid4()
            await connection.execute(
                "INSERT INTO notifications (id, company_id, user_id, kind, title, body,"
                " dedupe_key, created_at, updated_at)"
                " VALUES ($1, $2, $3, 'test', 't', 'b', 'k', now(), now())",
                notification_id,
                uuid.UUID(acme.id),
                uuid.UUID(acme.admin_id),
            )
            await connection.execute(
                "INSERT INTO push_attempts (id, company_id, notification_id, device_id, attempt,"
                " outcome, created_at) VALUES ($1, $2, $3, $4, 1, 'sent', now())",
                uuid.uuid4(),
                uuid.UUID(acme.id),
                notification_id,
                uuid.UUID(device.json()["id"]),
            )
            moved = await http.post("/v1/devices", json=body, headers=globex.admin)
            rows = await connection.fetch(
                "SELECT company_id, user_id FROM devices WHERE token = $1", body["token"]
            )
            attempts = await connection.fetchval(
                "SELECT count(*) FROM push_attempts WHERE notification_id = $1", notification_id
            )
        finally:
            await connection.close()
    assert moved.status_code == 201, moved.text
    assert [(str(r["company_id"]), str(r["user_id"])) for r in rows] == [
        (globex.id, globex.admin_id)
    ]
    assert attempts == 0
