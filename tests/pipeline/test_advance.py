"""Advance: transition rules (one step, skip, backward, lost, reopen, won closed for good),
exit requirements (fields, feedback by type, evidence since entering the stage; all missing
at once), won (deal, customer's clock and status, deal_won), lost reasons, the notifications
and events of a move, concurrent moves, and the stage history."""

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text

from app.core import clock
from app.db import session_factory
from app.notifications.models import Notification
from tests.customers.helpers import create_customer, set_rules
from tests.fieldwork.media_samples import amr, mp3
from tests.fieldwork.test_checkins import checkin_body
from tests.helpers import client, signup
from tests.pipeline.opportunity_helpers import (
    advance,
    default_pipeline,
    execute,
    open_opportunity,
    scalar,
    set_pipeline,
    set_stage,
)

CUSTOMER_AT = {"lat": 39.9087, "lng": 116.3975}


@pytest.fixture(autouse=True)
def files_dir(tmp_path, monkeypatch):
    from app.config import get_settings

    monkeypatch.setenv("OUTFIELD_FILES_DIR", str(tmp_path / "files"))
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


async def upload(http, headers, content: bytes) -> str:
    response = await http.post(
        "/v1/files", files={"file": ("f.bin", content, "application/octet-stream")}, headers=headers
    )
    assert response.status_code in (200, 201), response.text
    return response.json()["id"]


async def notifications_of(user_id: str, kind: str) -> int:
    return await scalar(
        "SELECT count(*) FROM notifications WHERE user_id = :u AND kind = :k", u=user_id, k=kind
    )


async def setup(http):
    company = await signup(http)
    rep_id, rep = await company.user("rep")
    customer = await create_customer(http, rep, "Acme", location=CUSTOMER_AT)
    pipeline = await default_pipeline(company.id)
    return company, rep_id, rep, customer, pipeline, pipeline["stages"]


async def test_one_step_forward_by_default_skip_and_backward_refused():
    async with client() as http:
        company, _, rep, customer, pipeline, stages = await setup(http)
        opportunity = await open_opportunity(http, rep, customer["id"])
        skipped = await advance(http, rep, opportunity["id"], stages[2]["id"])
        assert (
            skipped.status_code == 409 and skipped.json()["code"] == "stage_transition_not_allowed"
        )
        to_won = await advance(http, rep, opportunity["id"], stages[4]["id"])
        assert to_won.status_code == 409
        same = await advance(http, rep, opportunity["id"], stages[0]["id"])
        assert same.status_code == 409
        unknown = await advance(http, rep, opportunity["id"], str(uuid.uuid4()))
        assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_stage"
        step = await advance(http, rep, opportunity["id"], stages[1]["id"], note="需求已确认")
        assert step.status_code == 200, step.text
        assert step.json()["stage_name"] == "找准需求" and step.json()["version"] == 2
        assert step.headers["etag"] == '"2"'
        back = await advance(http, rep, opportunity["id"], stages[0]["id"])
        assert back.status_code == 409 and back.json()["code"] == "stage_transition_not_allowed"
        await set_pipeline(pipeline["id"], allow_skip=True, allow_backward=True)
        assert (await advance(http, rep, opportunity["id"], stages[3]["id"])).status_code == 200
        back = await advance(http, rep, opportunity["id"], stages[0]["id"])
        assert back.status_code == 200 and back.json()["stage_name"] == "第一次接触"


async def test_a_retired_stage_is_skipped_by_one_step_and_cannot_be_entered():
    async with client() as http:
        company, _, rep, customer, _, stages = await setup(http)
        await set_stage(stages[1]["id"], retired_at=clock.now())
        opportunity = await open_opportunity(http, rep, customer["id"])
        refused = await advance(http, rep, opportunity["id"], stages[1]["id"])
        assert refused.status_code == 422 and refused.json()["code"] == "unknown_stage"
        step = await advance(http, rep, opportunity["id"], stages[2]["id"])
        assert step.status_code == 200, step.text


async def test_lost_needs_a_listed_reason_and_reopens_only_with_allow_backward():
    async with client() as http:
        company, _, rep, customer, pipeline, stages = await setup(http)
        lost = stages[5]
        opportunity = await open_opportunity(http, rep, customer["id"], stage_id=stages[2]["id"])
        missing = await advance(http, rep, opportunity["id"], lost["id"])
        assert missing.status_code == 422 and missing.json()["code"] == "lost_reason_required"
        wrong = await advance(http, rep, opportunity["id"], lost["id"], lost_reason="太贵了")
        assert wrong.status_code == 422 and wrong.json()["code"] == "unknown_lost_reason"
        # A stage's requirements do not hold a lost move back.
        await set_stage(stages[2]["id"], required_fields=["amount"], required_evidence=["followup"])
        done = await advance(http, rep, opportunity["id"], lost["id"], lost_reason="价格 price")
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["status"] == "lost" and body["lost_reason"] == "价格 price"
        assert body["closed_at"] is not None and body["quadrant"] is None
        again = await advance(http, rep, opportunity["id"], stages[3]["id"])
        assert again.status_code == 409 and again.json()["code"] == "stage_transition_not_allowed"
        await set_pipeline(pipeline["id"], allow_backward=True)
        to_won = await advance(http, rep, opportunity["id"], stages[4]["id"])
        assert to_won.status_code == 409
        reopened = await advance(http, rep, opportunity["id"], stages[1]["id"])
        assert reopened.status_code == 200, reopened.text
        body = reopened.json()
        assert (body["status"], body["lost_reason"], body["closed_at"]) == ("open", None, None)
        # A deleted reason no longer counts.
        await execute("UPDATE lost_reasons SET deleted_at = now() WHERE label = '其他 other'")
        gone = await advance(http, rep, opportunity["id"], lost["id"], lost_reason="其他 other")
        assert gone.status_code == 422 and gone.json()["code"] == "unknown_lost_reason"


async def test_every_requirement_kind_missing_is_listed_at_once():
    async with client() as http:
        company, _, rep, customer, _, stages = await setup(http)
        await set_stage(
            stages[0]["id"],
            required_fields=["amount", "competitors"],
            required_feedback=[
                {"key": "decision_maker", "label": "决策人", "type": "text"},
                {"key": "budget", "label": "预算", "type": "number"},
                {"key": "deadline", "label": "截止日期", "type": "date"},
                {"key": "fit", "label": "匹配度", "type": "choice", "options": ["高", "中", "低"]},
                {"key": "minutes", "label": "会议纪要", "type": "file"},
            ],
            required_evidence=["checkin_at_customer", "followup", "file"],
        )
        opportunity = await open_opportunity(http, rep, customer["id"])
        refused = await advance(http, rep, opportunity["id"], stages[1]["id"])
        assert refused.status_code == 422 and refused.json()["code"] == "stage_requirements_missing"
        assert refused.json()["missing"] == [
            {"kind": "field", "key": "amount", "label": "金额 amount"},
            {"kind": "field", "key": "competitors", "label": "竞争对手 competitors"},
            {"kind": "feedback", "key": "decision_maker", "label": "决策人"},
            {"kind": "feedback", "key": "budget", "label": "预算"},
            {"kind": "feedback", "key": "deadline", "label": "截止日期"},
            {"kind": "feedback", "key": "fit", "label": "匹配度"},
            {"kind": "feedback", "key": "minutes", "label": "会议纪要"},
            {
                "kind": "evidence",
                "key": "checkin_at_customer",
                "label": "在客户处签到 a check-in at the customer",
            },
            {
                "kind": "evidence",
                "key": "followup",
                "label": "跟进记录 a follow-up on the customer",
            },
            {"kind": "evidence", "key": "file", "label": "附件 a file on the opportunity"},
        ]
        # Wrong types do not answer: a number as text, a date not ISO, an option not listed,
        # a file someone else uploaded, blank text.
        _, colleague = await company.user("rep")
        theirs = await upload(http, colleague, mp3())
        wrong = await advance(
            http,
            rep,
            opportunity["id"],
            stages[1]["id"],
            feedback={
                "decision_maker": "  ",
                "budget": "100",
                "deadline": "01/03/2027",
                "fit": "极高",
                "minutes": theirs,
            },
        )
        assert [m["key"] for m in wrong.json()["missing"] if m["kind"] == "feedback"] == [
            "decision_maker",
            "budget",
            "deadline",
            "fit",
            "minutes",
        ]
        assert await scalar("SELECT count(*) FROM attachments") == 0  # rolled back


async def test_evidence_that_does_not_count_and_then_does():
    async with client() as http:
        company, rep_id, rep, customer, _, stages = await setup(http)
        await set_stage(
            stages[0]["id"],
            required_evidence=["checkin_at_customer", "followup", "file"],
            required_feedback=[{"key": "minutes", "label": "会议纪要", "type": "file"}],
        )
        # Before the opportunity entered the stage: does not count.
        early = await http.post(
            "/v1/checkins", json=checkin_body(customer["id"], 39.9088, 116.3975), headers=rep
        )
        assert early.status_code == 201, early.text
        await http.post(
            "/v1/followups",
            json={"customer_id": customer["id"], "kind": "call", "text": "early"},
            headers=rep,
        )
        old_file = await upload(http, rep, amr())
        clock.advance(timedelta(minutes=5))
        rep = await company.relogin(rep_id)
        opportunity = await open_opportunity(http, rep, customer["id"])
        clock.advance(timedelta(minutes=5))
        rep = await company.relogin(rep_id)
        far = await http.post(
            "/v1/checkins", json=checkin_body(customer["id"], 39.95, 116.3975), headers=rep
        )
        assert {f["code"] for f in far.json()["flags"]} >= {"far_from_customer"}
        mocked = await http.post(
            "/v1/checkins",
            json=checkin_body(customer["id"], 39.9088, 116.3975, mock_location=True),
            headers=rep,
        )
        assert mocked.status_code == 201
        refused = await advance(
            http, rep, opportunity["id"], stages[1]["id"], feedback={"minutes": old_file}
        )
        assert refused.status_code == 422
        # The old file answers the question (the caller uploaded it) but is no evidence.
        assert [(m["kind"], m["key"]) for m in refused.json()["missing"]] == [
            ("evidence", "checkin_at_customer"),
            ("evidence", "followup"),
            ("evidence", "file"),
        ]
        good = await http.post(
            "/v1/checkins", json=checkin_body(customer["id"], 39.9088, 116.3975), headers=rep
        )
        assert good.json()["flags"] == []
        await http.post(
            "/v1/followups",
            json={"customer_id": customer["id"], "kind": "visit", "text": "见面"},
            headers=rep,
        )
        new_file = await upload(http, rep, mp3(4))
        moved = await advance(
            http, rep, opportunity["id"], stages[1]["id"], feedback={"minutes": new_file}
        )
        assert moved.status_code == 200, moved.text
        assert (
            await scalar(
                "SELECT count(*) FROM attachments"
                " WHERE record_type = 'opportunity' AND record_id = :o",
                o=opportunity["id"],
            )
            == 1
        )
        # attachment_ids: only files the caller uploaded.
        _, colleague = await company.user("rep")
        theirs = await upload(http, colleague, mp3(5))
        stray = await advance(
            http, rep, opportunity["id"], stages[2]["id"], attachment_ids=[theirs]
        )
        assert stray.status_code == 422 and stray.json()["code"] == "unknown_file"


async def test_all_requirements_met_with_valid_answers_moves_and_keeps_the_feedback():
    async with client() as http:
        company, _, rep, customer, _, stages = await setup(http)
        await set_stage(
            stages[0]["id"],
            required_fields=["amount"],
            required_feedback=[
                {"key": "budget", "label": "预算", "type": "number"},
                {"key": "deadline", "label": "截止日期", "type": "date"},
                {"key": "fit", "label": "匹配度", "type": "choice", "options": ["高", "低"]},
            ],
        )
        opportunity = await open_opportunity(http, rep, customer["id"], amount="100")
        feedback = {"budget": 250000.5, "deadline": "2027-03-01", "fit": "高", "extra": "备注"}
        moved = await advance(
            http, rep, opportunity["id"], stages[1]["id"], feedback=feedback, note="ok"
        )
        assert moved.status_code == 200, moved.text
        history = (
            await http.get(f"/v1/opportunities/{opportunity['id']}/stages", headers=rep)
        ).json()
        assert history[-1]["feedback"] == feedback and history[-1]["note"] == "ok"


async def test_won_records_the_deal_moves_the_customer_clock_and_tells_the_team(monkeypatch):
    from app.config import get_settings
    from tests.notifications.webhook_helpers import create_webhook, deliveries_of

    monkeypatch.setenv("OUTFIELD_WEBHOOK_ALLOW_INSECURE_URLS", "true")
    monkeypatch.setenv("OUTFIELD_WEBHOOK_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    get_settings.cache_clear()
    async with client() as http:
        company = await signup(http)
        team = await company.department("East")
        sibling = await company.department("West")
        rep_id, rep = await company.user("rep", team)
        helper_id, helper = await company.user("rep", team)
        manager_id, manager = await company.user("manager", team)
        sibling_manager_id, _ = await company.user("manager", sibling)
        await set_rules(http, company.admin, won_exempt=False)
        clock.freeze(clock.now())
        customer = await create_customer(http, rep, "Acme")
        await http.post(
            f"/v1/customers/{customer['id']}/collaborators",
            json={"user_id": helper_id, "role": "sales"},
            headers=rep,
        )
        for _ in range(2):  # follow-ups keep the follow-up clock alive; the deal clock runs
            clock.advance(timedelta(days=10))
            rep = await company.relogin(rep_id)
            response = await http.post(
                "/v1/followups",
                json={"customer_id": customer["id"], "kind": "call", "text": "x"},
                headers=rep,
            )
            assert response.status_code == 201, response.text
        await company.relogin_admin()
        webhook = await create_webhook(
            http,
            company,
            "http://127.0.0.1:9/hook",
            event_types=[
                "opportunity.created",
                "opportunity.stage_changed",
                "opportunity.won",
                "opportunity.lost",
                "customer.deal_recorded",
            ],
        )
        stages = (await default_pipeline(company.id))["stages"]
        opportunity = await open_opportunity(http, rep, customer["id"], stage_id=stages[3]["id"])
        before = (await http.get(f"/v1/customers/{customer['id']}", headers=rep)).json()
        assert before["recycle_reason"] == "no_deal" and before["last_deal_at"] is None
        refused = await advance(http, rep, opportunity["id"], stages[4]["id"])
        assert refused.status_code == 422
        assert refused.json()["missing"] == [
            {"kind": "field", "key": "amount", "label": "金额 amount"},
            {
                "kind": "field",
                "key": "expected_close_date",
                "label": "预计成交日期 expected close date",
            },
        ]
        patched = await http.patch(
            f"/v1/opportunities/{opportunity['id']}",
            json={"amount": "88000", "expected_close_date": "2027-03-31"},
            headers=rep | {"If-Match": '"1"'},
        )
        assert patched.status_code == 200, patched.text
        clock.advance(timedelta(minutes=5))
        won = await advance(http, rep, opportunity["id"], stages[4]["id"])
        assert won.status_code == 200, won.text
        body = won.json()
        assert body["status"] == "won" and body["closed_at"] is not None
        after = (await http.get(f"/v1/customers/{customer['id']}", headers=rep)).json()
        assert after["status"] == "won" and after["last_deal_at"] is not None
        assert after["recycle_reason"] == "no_followup"  # the deal clock moved past it
        assert after["recycle_at"] > before["recycle_at"]
        assert (
            await scalar(
                "SELECT amount FROM customer_deals WHERE customer_id = :c", c=customer["id"]
            )
            == 88000
        )
        assert await notifications_of(manager_id, "deal_won") == 1
        assert await notifications_of(helper_id, "deal_won") == 1
        assert await notifications_of(sibling_manager_id, "deal_won") == 0
        assert await notifications_of(rep_id, "deal_won") == 0
        closed = await advance(
            http, rep, opportunity["id"], stages[5]["id"], lost_reason="价格 price"
        )
        assert closed.status_code == 409 and closed.json()["code"] == "opportunity_closed"
        edit = await http.patch(
            f"/v1/opportunities/{opportunity['id']}",
            json={"name": "x"},
            headers=rep | {"If-Match": f'"{body["version"]}"'},
        )
        assert edit.status_code == 409 and edit.json()["code"] == "opportunity_closed"
        events = sorted(d.event_type for d in await deliveries_of(webhook["id"]))
        assert events == [
            "customer.deal_recorded",
            "opportunity.created",
            "opportunity.stage_changed",
            "opportunity.won",
        ]
        assert manager and helper
    get_settings.cache_clear()


async def test_a_move_notifies_the_owner_and_collaborators_but_not_the_actor():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        helper_id, helper = await company.user("rep")
        manager_id, manager = await company.user("manager")
        customer = await create_customer(http, rep, "Acme")
        await http.post(
            f"/v1/customers/{customer['id']}/collaborators",
            json={"user_id": helper_id, "role": "sales"},
            headers=rep,
        )
        stages = (await default_pipeline(company.id))["stages"]
        opportunity = await open_opportunity(http, rep, customer["id"])
        moved = await advance(http, helper, opportunity["id"], stages[1]["id"])
        assert moved.status_code == 200, moved.text
        assert await notifications_of(rep_id, "opportunity_stage_changed") == 1
        assert await notifications_of(helper_id, "opportunity_stage_changed") == 0
        moved = await advance(http, manager, opportunity["id"], stages[2]["id"])
        assert moved.status_code == 200, moved.text
        assert await notifications_of(rep_id, "opportunity_stage_changed") == 2
        assert await notifications_of(helper_id, "opportunity_stage_changed") == 1
        assert await notifications_of(manager_id, "opportunity_stage_changed") == 0
        assert (
            await scalar(
                "SELECT count(*) FROM feed_items"
                " WHERE kind = 'opportunity' AND subject_type = 'stage_change'"
            )
            == 2
        )
        body = await scalar(
            "SELECT body FROM notifications WHERE user_id = :u ORDER BY created_at LIMIT 1",
            u=rep_id,
        )
        assert "第一次接触" in body and "找准需求" in body
        assert Notification


async def test_a_rep_who_only_sees_a_pool_customer_may_not_move_its_opportunity():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        _, other = await company.user("rep")
        customer = await create_customer(http, rep, "Acme")
        stages = (await default_pipeline(company.id))["stages"]
        opportunity = await open_opportunity(http, rep, customer["id"])
        released = await http.post(
            f"/v1/customers/{customer['id']}/release", json={"reason": "不跟了"}, headers=rep
        )
        assert released.status_code == 200, released.text
        assert (
            await http.get(f"/v1/opportunities/{opportunity['id']}", headers=other)
        ).status_code == 200
        refused = await advance(http, other, opportunity["id"], stages[1]["id"])
        assert refused.status_code == 403
        assert rep_id


async def _race(http, opportunity_id: str, requests) -> list:
    """Run the advances while another connection holds the opportunity's row: each request
    reads it, decides, and waits at its conditional UPDATE; then the row is let go."""
    async with session_factory()() as holder:
        await holder.execute(
            text("SELECT id FROM opportunities WHERE id = :o FOR UPDATE"), {"o": opportunity_id}
        )
        tasks = [asyncio.ensure_future(request) for request in requests]
        for _ in range(200):
            waiting = await scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'UPDATE opportunities%'"
            )
            if waiting == len(tasks):
                break
            await asyncio.sleep(0.02)
        assert waiting == len(tasks)
        await holder.rollback()
    return list(await asyncio.gather(*tasks))


async def test_two_concurrent_moves_exactly_one_wins():
    async with client() as http:
        company, _, rep, customer, _, stages = await setup(http)
        opportunity = await open_opportunity(http, rep, customer["id"])
        results = await _race(
            http,
            opportunity["id"],
            [
                advance(http, rep, opportunity["id"], stages[1]["id"]),
                advance(http, rep, opportunity["id"], stages[5]["id"], lost_reason="价格 price"),
            ],
        )
        assert sorted(r.status_code for r in results) == [200, 409], [r.text for r in results]
        loser = next(r for r in results if r.status_code == 409)
        assert loser.json()["code"] == "opportunity_changed"
        assert (
            await scalar(
                "SELECT count(*) FROM stage_history WHERE opportunity_id = :o", o=opportunity["id"]
            )
            == 2
        )
        assert (
            await scalar("SELECT version FROM opportunities WHERE id = :o", o=opportunity["id"])
            == 2
        )
        # With If-Match: the loser is 412.
        second = await open_opportunity(http, rep, customer["id"], name="Second")
        results = await _race(
            http,
            second["id"],
            [
                advance(http, rep | {"If-Match": '"1"'}, second["id"], stages[1]["id"])
                for _ in range(2)
            ],
        )
        assert sorted(r.status_code for r in results) == [200, 412], [r.text for r in results]
        stale = await advance(http, rep | {"If-Match": '"1"'}, second["id"], stages[2]["id"])
        assert stale.status_code == 412


async def test_stage_history_keeps_names_as_they_were_and_time_in_stage():
    async with client() as http:
        company, rep_id, rep, customer, _, stages = await setup(http)
        start = clock.now()
        clock.freeze(start)
        opportunity = await open_opportunity(http, rep, customer["id"])
        clock.advance(timedelta(hours=2))
        rep = await company.relogin(rep_id)
        moved = await advance(
            http, rep, opportunity["id"], stages[1]["id"], feedback={"q": "a"}, note="n"
        )
        assert moved.status_code == 200, moved.text
        await set_stage(stages[0]["id"], name="初次接触")
        clock.advance(timedelta(hours=1))
        rep = await company.relogin(rep_id)
        history = (
            await http.get(f"/v1/opportunities/{opportunity['id']}/stages", headers=rep)
        ).json()
        assert [(h["from_stage_name"], h["to_stage_name"]) for h in history] == [
            (None, "第一次接触"),
            ("第一次接触", "找准需求"),
        ]
        assert history[0]["seconds_in_stage"] == 7200
        assert history[1]["seconds_in_previous"] == 7200
        assert history[1]["seconds_in_stage"] == 3600
        assert history[1]["actor_id"] == rep_id and history[1]["feedback"] == {"q": "a"}
