"""Restore within the window (who may, the duplicate refusal), the purge (idempotent, leaves
what kept rows point at), and deleting one's own unattached files."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.config import get_settings
from app.core import clock
from app.core.clock import now
from app.customers.models import Customer
from app.db import session_factory
from app.fieldwork.models import Followup
from app.retention.purge import purge
from tests.customers.helpers import create_customer
from tests.fieldwork.media_samples import photo
from tests.helpers import client, signup


@pytest.fixture(autouse=True)
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OUTFIELD_FILES_DIR", str(tmp_path / "files"))
    get_settings.cache_clear()
    yield tmp_path / "files"
    monkeypatch.undo()
    get_settings.cache_clear()


async def team(http):
    company = await signup(http)
    east = await company.department("East")
    west = await company.department("West")
    rep_id, rep = await company.user("rep", east)
    _, manager = await company.user("manager", east)
    _, sibling = await company.user("manager", west)
    return company, rep_id, rep, manager, sibling


async def test_who_may_restore_a_customer_and_the_window():
    async with client() as http:
        company, _, rep, manager, sibling = await team(http)
        customer = await create_customer(http, rep, "Gone Co", phone="13812345678")
        url = f"/v1/customers/{customer['id']}"
        live = await http.post(f"{url}/restore", headers=manager)
        assert (live.status_code, live.json()["code"]) == (409, "record_not_deleted")
        assert (await http.delete(url, headers=rep)).status_code == 204
        assert (await http.post(f"{url}/restore", headers=rep)).status_code == 403
        assert (await http.post(f"{url}/restore", headers=sibling)).status_code == 404
        other = await signup(http, "Other Co")
        assert (await http.post(f"{url}/restore", headers=other.admin)).status_code == 404
        restored = await http.post(f"{url}/restore", headers=manager)
        assert restored.status_code == 200, restored.text
        assert restored.json()["phone"] == "13812345678"
        assert restored.json()["recycle_at"] is not None  # the clock runs again
        assert (await http.get(url, headers=rep)).status_code == 200
        # Past the window (30 days by default).
        assert (await http.delete(url, headers=rep)).status_code == 204
        clock.freeze(now() + timedelta(days=30, minutes=1))
        admin = await company.relogin_admin()
        late = await http.post(f"{url}/restore", headers=admin)
        assert (late.status_code, late.json()["code"]) == (409, "restore_window_passed")
        assert late.json()["restore_days"] == 30


async def test_restoring_a_duplicate_is_refused():
    async with client() as http:
        company, _, rep, manager, _ = await team(http)
        first = await create_customer(http, rep, "Twin Co", phone="13800000001")
        assert (await http.delete(f"/v1/customers/{first['id']}", headers=rep)).status_code == 204
        await create_customer(http, rep, "Other Name", phone="13800000001")
        refused = await http.post(f"/v1/customers/{first['id']}/restore", headers=manager)
        assert (refused.status_code, refused.json()["code"]) == (409, "duplicate_customer")
        assert refused.json()["duplicates"][0]["matched_on"] == ["phone"]


async def test_restoring_a_followup_needs_its_customer():
    async with client() as http:
        company, _, rep, manager, _ = await team(http)
        customer = await create_customer(http, rep, "Call Co")
        made = await http.post(
            "/v1/followups",
            json={"customer_id": customer["id"], "kind": "call", "text": "hello"},
            headers=rep,
        )
        assert made.status_code == 201, made.text
        followup = f"/v1/followups/{made.json()['id']}"
        assert (await http.delete(followup, headers=rep)).status_code == 204
        assert (
            await http.delete(f"/v1/customers/{customer['id']}", headers=rep)
        ).status_code == 204
        blocked = await http.post(f"{followup}/restore", headers=manager)
        assert (blocked.status_code, blocked.json()["code"]) == (409, "customer_deleted")
        assert (
            await http.post(f"/v1/customers/{customer['id']}/restore", headers=company.admin)
        ).status_code == 200
        back = await http.post(f"{followup}/restore", headers=manager)
        assert back.status_code == 200, back.text
        assert back.json()["text"] == "hello"
        assert (await http.get(followup, headers=rep)).status_code == 200


async def counts() -> tuple[int, int]:
    async with session_factory()() as session:
        customers = await session.scalar(select(func.count()).select_from(Customer))
        followups = await session.scalar(select(func.count()).select_from(Followup))
    return int(customers or 0), int(followups or 0)


async def test_purge_removes_what_is_past_the_window_once():
    async with client() as http:
        company, rep_id, rep, _, _ = await team(http)
        old = await create_customer(http, rep, "Old Co")
        held = await create_customer(http, rep, "Held Co")  # a live follow-up points at it
        made = await http.post(
            "/v1/followups",
            json={"customer_id": old["id"], "kind": "call", "text": "x"},
            headers=rep,
        )
        assert made.status_code == 201
        kept = await http.post(
            "/v1/followups",
            json={"customer_id": held["id"], "kind": "call", "text": "kept"},
            headers=rep,
        )
        assert kept.status_code == 201
        assert (
            await http.delete(f"/v1/followups/{made.json()['id']}", headers=rep)
        ).status_code == 204
        for customer in (old, held):
            assert (
                await http.delete(f"/v1/customers/{customer['id']}", headers=rep)
            ).status_code == 204
        recent = await create_customer(http, rep, "Recent Co")
        start = now()
        clock.freeze(start + timedelta(days=20))
        rep = await company.relogin(rep_id)
        assert (await http.delete(f"/v1/customers/{recent['id']}", headers=rep)).status_code == 204
        assert await counts() == (3, 2)
        first: dict[str, int] = {}
        await purge(first)
        assert first["examined"] == 0  # nothing past 30 days yet
        clock.freeze(start + timedelta(days=31))
        await purge(first)
        assert (first["followups_purged"], first["customers_purged"]) == (1, 1)
        # "Held Co" stays (its live follow-up points at it), "Recent Co" is 11 days deleted.
        assert await counts() == (2, 1)
        again: dict[str, int] = {}
        await purge(again)
        assert again["examined"] == 0
        assert await counts() == (2, 1)


async def upload(http, headers, color) -> str:
    response = await http.post(
        "/v1/files",
        files={"file": ("p.jpg", photo(color=color), "application/octet-stream")},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_deleting_files_refuses_attached_and_others_files(files_dir):
    async with client() as http:
        company, _, rep, manager, _ = await team(http)
        _, peer = await company.user("rep")
        loose = await upload(http, rep, (1, 2, 3))
        attached = await upload(http, rep, (200, 100, 50))
        customer = await create_customer(http, rep, "Photo Co")
        made = await http.post(
            "/v1/followups",
            json={
                "customer_id": customer["id"],
                "kind": "visit",
                "text": "photo",
                "attachment_ids": [attached],
            },
            headers=rep,
        )
        assert made.status_code == 201, made.text
        in_use = await http.delete(f"/v1/files/{attached}", headers=rep)
        assert (in_use.status_code, in_use.json()["code"]) == (409, "file_in_use")
        batch = await http.post(
            "/v1/files/batch-delete", json={"file_ids": [loose, attached]}, headers=rep
        )
        assert (batch.status_code, batch.json()["code"]) == (409, "file_in_use")
        assert (await http.get(f"/v1/files/{loose}", headers=rep)).status_code == 200  # all or none
        assert (await http.delete(f"/v1/files/{loose}", headers=peer)).status_code == 404
        assert (await http.delete(f"/v1/files/{loose}", headers=company.admin)).status_code == 403
        done = await http.post("/v1/files/batch-delete", json={"file_ids": [loose]}, headers=rep)
        assert done.status_code == 200, done.text
        assert done.json() == {"deleted": [loose]}
        assert (await http.get(f"/v1/files/{loose}", headers=rep)).status_code == 404
        assert (await http.delete(f"/v1/files/{loose}", headers=rep)).status_code == 404
