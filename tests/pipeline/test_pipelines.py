"""Pipelines, stages and lost reasons as admins shape them (everyone reads)."""

import uuid
from datetime import timedelta
from typing import get_args

from app.core import clock
from app.pipeline.pipelines import rules
from app.pipeline.pipelines.schemas import RequiredField
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from tests.pipeline.pipeline_sql import (
    default_pipeline,
    execute,
    insert_move,
    insert_opportunity,
    rows,
)

THREE = [
    {"name": "Talk", "probability": 20},
    {"name": "Won", "probability": 100, "kind": "won"},
    {"name": "Lost", "probability": 0, "kind": "lost"},
]


def names(detail: dict) -> list[str]:
    return [s["name"] for s in detail["stages"]]


def active(detail: dict) -> list[dict]:
    return [s for s in detail["stages"] if not s["retired"]]


# ---------- pure rules ----------


def test_rules_insert_move_fate_and_kinds():
    assert rules.insert_at(["a", "b", "c"], "x", 2) == ["a", "x", "b", "c"]
    assert rules.insert_at(["a", "b"], "x", None) == ["a", "b", "x"]
    assert rules.insert_at(["a", "b"], "x", 9) == ["a", "b", "x"]
    a, b, c = object(), object(), object()
    assert rules.move_to([a, b, c], c, 1) == [c, a, b]
    assert rules.move_to([a, b, c], a, 3) == [b, c, a]
    assert rules.stage_fate(0, False, False) == "delete"
    assert rules.stage_fate(0, True, False) == "retire"
    assert rules.stage_fate(2, True, False) == "refuse"
    assert rules.stage_fate(2, True, True) == "move"
    assert rules.missing_kinds(["open", "open", "won"]) == ["lost"]
    assert rules.missing_kinds([]) == ["open", "won", "lost"]
    assert get_args(RequiredField) == rules.OPPORTUNITY_FIELDS


# ---------- pipelines ----------


async def test_everyone_reads_admins_write():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        listed = await http.get("/v1/pipelines", headers=rep)
        assert listed.status_code == 200 and [p["is_default"] for p in listed.json()] == [True]
        detail = await default_pipeline(http, rep)
        assert names(detail) == ["第一次接触", "找准需求", "提供方案", "商务谈判", "赢单", "输单"]
        assert [s["position"] for s in detail["stages"]] == [1, 2, 3, 4, 5, 6]
        assert detail["stages"][0]["guidance"] and detail["stages"][0]["required_fields"] == []
        pid, sid = detail["id"], detail["stages"][0]["id"]
        etag = {"If-Match": f'"{detail["version"]}"'}
        refused = [
            await http.post("/v1/pipelines", json={"name": "X", "stages": THREE}, headers=rep),
            await http.patch(f"/v1/pipelines/{pid}", json={"name": "Y"}, headers=rep | etag),
            await http.delete(f"/v1/pipelines/{pid}", headers=rep),
            await http.post(
                f"/v1/pipelines/{pid}/stages", json={"name": "S", "probability": 5}, headers=rep
            ),
            await http.patch(
                f"/v1/pipelines/{pid}/stages/{sid}", json={"name": "Z"}, headers=rep | etag
            ),
            await http.delete(f"/v1/pipelines/{pid}/stages/{sid}", headers=rep),
            await http.post("/v1/lost-reasons", json={"label": "x"}, headers=rep),
        ]
        assert [r.status_code for r in refused] == [403] * len(refused)
        reasons = await http.get("/v1/lost-reasons", headers=rep)
        assert reasons.status_code == 200 and len(reasons.json()) == 6
        refused = await http.delete(f"/v1/lost-reasons/{reasons.json()[0]['id']}", headers=rep)
        assert refused.status_code == 403


async def test_create_with_stages_replay_conflict_and_minimum_kinds():
    async with client() as http:
        company = await signup(http)
        body = {"id": str(uuid.uuid4()), "name": "After sale", "kind": "after_sale"}
        made = await http.post(
            "/v1/pipelines", json=body | {"stages": THREE}, headers=company.admin
        )
        assert made.status_code == 201, made.text
        assert made.json()["stale_after_days"] == 42 and made.json()["is_default"] is False
        assert names(made.json()) == ["Talk", "Won", "Lost"] and made.headers["etag"] == '"1"'
        again = await http.post(
            "/v1/pipelines", json=body | {"stages": THREE}, headers=company.admin
        )
        assert again.status_code == 200 and again.json()["id"] == body["id"]
        other = await http.post(
            "/v1/pipelines", json=body | {"stages": THREE[:1] + THREE[1:]}, headers=company.admin
        )
        assert other.status_code == 200  # the same body, only rebuilt
        changed = await http.post(
            "/v1/pipelines", json=body | {"name": "Other", "stages": THREE}, headers=company.admin
        )
        assert changed.status_code == 409 and changed.json()["code"] == "id_conflict"
        taken = await http.post(
            "/v1/pipelines", json={"name": "After sale", "stages": THREE}, headers=company.admin
        )
        assert taken.status_code == 409 and taken.json()["code"] == "pipeline_name_taken"
        for stages, missing in (([THREE[0]], ["won", "lost"]), (None, ["open", "won", "lost"])):
            short = await http.post(
                "/v1/pipelines", json={"name": "Short", "stages": stages}, headers=company.admin
            )
            assert short.status_code == 422 and short.json()["code"] == "stage_kinds_required"
            assert short.json()["missing_kinds"] == missing
        for bad in (
            {"stale_after_days": 0},
            {"stale_after_days": 3651},
            {"kind": "rental"},
            {"copy_from": str(uuid.uuid4())},  # with stages too
        ):
            response = await http.post(
                "/v1/pipelines", json={"name": "Bad", "stages": THREE} | bad, headers=company.admin
            )
            assert response.status_code == 422, bad


async def test_copy_from_copies_active_stages_and_requirements():
    async with client() as http:
        company = await signup(http)
        other = await signup(http, "Other")
        source = await default_pipeline(http, company.admin)
        first = source["stages"][0]
        etag = {"If-Match": f'"{first["version"]}"'}
        feedback = [{"key": "budget", "label": "预算", "type": "number"}]
        response = await http.patch(
            f"/v1/pipelines/{source['id']}/stages/{first['id']}",
            json={"required_fields": ["amount"], "required_feedback": feedback, "max_days": 7},
            headers=company.admin | etag,
        )
        assert response.status_code == 200, response.text
        copied = await http.post(
            "/v1/pipelines",
            json={"name": "Copy", "copy_from": source["id"], "allow_skip": True},
            headers=company.admin,
        )
        assert copied.status_code == 201, copied.text
        assert names(copied.json()) == names(source) and copied.json()["allow_skip"] is True
        stage = copied.json()["stages"][0]
        assert stage["id"] != first["id"] and stage["required_fields"] == ["amount"]
        assert (
            stage["required_feedback"] == [feedback[0] | {"options": None}]
            and stage["max_days"] == 7
        )
        assert stage["guidance"] == first["guidance"]
        foreign = await http.post(
            "/v1/pipelines", json={"name": "Steal", "copy_from": source["id"]}, headers=other.admin
        )
        assert foreign.status_code == 422 and foreign.json()["code"] == "unknown_pipeline"
        assert foreign.json()["errors"][0]["loc"] == ["body", "copy_from"]


async def test_patch_needs_if_match_and_switches_the_default():
    async with client() as http:
        company = await signup(http)
        old = await default_pipeline(http, company.admin)
        made = (
            await http.post(
                "/v1/pipelines", json={"name": "B", "stages": THREE}, headers=company.admin
            )
        ).json()
        url = f"/v1/pipelines/{made['id']}"
        missing = await http.patch(url, json={"is_default": True}, headers=company.admin)
        assert missing.status_code == 428 and missing.json()["code"] == "if_match_required"
        stale = await http.patch(
            url, json={"is_default": True}, headers=company.admin | {"If-Match": '"7"'}
        )
        assert stale.status_code == 412 and stale.json()["code"] == "version_mismatch"
        switched = await http.patch(
            url,
            json={"is_default": True, "stale_after_days": 30, "allow_backward": True},
            headers=company.admin | {"If-Match": '"1"'},
        )
        assert switched.status_code == 200, switched.text
        assert switched.headers["etag"] == '"2"' and switched.json()["stale_after_days"] == 30
        listed = (await http.get("/v1/pipelines", headers=company.admin)).json()
        assert [(p["id"], p["is_default"]) for p in listed] == [
            (made["id"], True),
            (old["id"], False),
        ]
        undefault = await http.patch(
            url, json={"is_default": False}, headers=company.admin | {"If-Match": '"2"'}
        )
        assert undefault.status_code == 409
        assert undefault.json()["code"] == "default_pipeline_required"
        # Creating one as the default moves the default again, in the same transaction.
        third = await http.post(
            "/v1/pipelines",
            json={"name": "C", "stages": THREE, "is_default": True},
            headers=company.admin,
        )
        assert third.status_code == 201 and third.json()["is_default"] is True
        defaults = await rows(
            "SELECT id FROM pipelines WHERE company_id = :c AND is_default", c=company.id
        )
        assert [str(r.id) for r in defaults] == [third.json()["id"]]
        renamed = await http.patch(
            f"/v1/pipelines/{third.json()['id']}",
            json={"name": "B"},
            headers=company.admin | {"If-Match": '"1"'},
        )
        assert renamed.status_code == 409 and renamed.json()["code"] == "pipeline_name_taken"


async def test_delete_pipeline_default_in_use_and_soft():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        default = await default_pipeline(http, company.admin)
        refused = await http.delete(f"/v1/pipelines/{default['id']}", headers=company.admin)
        assert refused.status_code == 409 and refused.json()["code"] == "default_pipeline_required"
        made = (
            await http.post(
                "/v1/pipelines", json={"name": "B", "stages": THREE}, headers=company.admin
            )
        ).json()
        customer = await create_customer(http, rep, "Acme")
        opportunity = await insert_opportunity(
            company.id, customer["id"], made["id"], made["stages"][0]["id"], rep_id
        )
        busy = await http.delete(f"/v1/pipelines/{made['id']}", headers=company.admin)
        assert busy.status_code == 409 and busy.json()["code"] == "pipeline_in_use"
        assert busy.json()["opportunities"] == 1
        await execute(
            "UPDATE opportunities SET status = 'won', stage_id = :s WHERE id = :id",
            s=made["stages"][1]["id"],
            id=opportunity,
        )
        gone = await http.delete(f"/v1/pipelines/{made['id']}", headers=company.admin)
        assert gone.status_code == 204
        assert (
            await http.get(f"/v1/pipelines/{made['id']}", headers=company.admin)
        ).status_code == 404
        assert [p["id"] for p in (await http.get("/v1/pipelines", headers=rep)).json()] == [
            default["id"]
        ]


async def test_other_company_ids_are_404():
    async with client() as http:
        company = await signup(http)
        other = await signup(http, "Other")
        mine = await default_pipeline(http, company.admin)
        pid, sid = mine["id"], mine["stages"][0]["id"]
        reason = (await http.get("/v1/lost-reasons", headers=company.admin)).json()[0]
        etag = {"If-Match": '"1"'}
        answers = [
            await http.get(f"/v1/pipelines/{pid}", headers=other.admin),
            await http.patch(
                f"/v1/pipelines/{pid}", json={"name": "x"}, headers=other.admin | etag
            ),
            await http.delete(f"/v1/pipelines/{pid}", headers=other.admin),
            await http.post(
                f"/v1/pipelines/{pid}/stages",
                json={"name": "S", "probability": 5},
                headers=other.admin,
            ),
            await http.patch(
                f"/v1/pipelines/{pid}/stages/{sid}", json={"name": "x"}, headers=other.admin | etag
            ),
            await http.delete(f"/v1/pipelines/{pid}/stages/{sid}", headers=other.admin),
            await http.delete(f"/v1/lost-reasons/{reason['id']}", headers=other.admin),
            await http.get(f"/v1/reports/funnel?pipeline_id={pid}", headers=other.admin),
        ]
        assert [a.status_code for a in answers] == [404] * len(answers)
        theirs = await default_pipeline(http, other.admin)
        wrong_pipeline = await http.delete(
            f"/v1/pipelines/{theirs['id']}/stages/{sid}", headers=other.admin
        )
        assert wrong_pipeline.status_code == 404
        assert len((await http.get("/v1/lost-reasons", headers=company.admin)).json()) == 6


# ---------- stages ----------


async def test_add_stage_inserts_and_shifts_and_validates():
    async with client() as http:
        company = await signup(http)
        pipeline = await default_pipeline(http, company.admin)
        url = f"/v1/pipelines/{pipeline['id']}/stages"
        body = {
            "name": "演示 demo",
            "position": 2,
            "probability": 20,
            "guidance": "Show it working.",
            "cautions": "Not before the need is known.",
            "max_days": 14,
            "required_fields": ["amount", "expected_close_date"],
            "required_feedback": [
                {"key": "decider", "label": "谁拍板", "type": "text"},
                {"key": "budget", "label": "预算", "type": "choice", "options": ["<10万", ">10万"]},
            ],
            "required_evidence": ["checkin_at_customer", "followup"],
        }
        made = await http.post(url, json=body, headers=company.admin)
        assert made.status_code == 201, made.text
        assert made.json()["position"] == 2 and made.headers["etag"] == '"1"'
        assert made.json()["required_feedback"][1]["options"] == ["<10万", ">10万"]
        detail = await default_pipeline(http, company.admin)
        assert names(detail)[:3] == ["第一次接触", "演示 demo", "找准需求"]
        assert [s["position"] for s in detail["stages"]] == [1, 2, 3, 4, 5, 6, 7]
        last = await http.post(url, json={"name": "Tail", "probability": 0}, headers=company.admin)
        assert last.json()["position"] == 8 and last.json()["kind"] == "open"
        bad_bodies = [
            {"required_fields": ["price"]},
            {"required_evidence": ["photo"]},
            {"required_evidence": ["file", "file"]},
            {"probability": 101},
            {"position": 0},
            {"kind": "maybe"},
            {"required_feedback": [{"key": "a", "label": "A", "type": "choice"}]},
            {"required_feedback": [{"key": "a", "label": "A", "type": "text", "options": ["x"]}]},
            {"required_feedback": [{"key": "Bad Key", "label": "A", "type": "text"}]},
            {"required_feedback": [{"key": "a", "label": "A", "type": "audio"}]},
            {
                "required_feedback": [
                    {"key": "a", "label": "A", "type": "text"},
                    {"key": "a", "label": "B", "type": "number"},
                ]
            },
            {"max_days": 0},
        ]
        for bad in bad_bodies:
            response = await http.post(
                url, json={"name": "B", "probability": 5} | bad, headers=company.admin
            )
            assert response.status_code == 422, bad
            assert response.json()["code"] == "validation_failed"


async def test_reorder_rename_and_if_match_on_the_stage():
    async with client() as http:
        company = await signup(http)
        pipeline = await default_pipeline(http, company.admin)
        fourth = pipeline["stages"][3]
        url = f"/v1/pipelines/{pipeline['id']}/stages/{fourth['id']}"
        assert (
            await http.patch(url, json={"position": 1}, headers=company.admin)
        ).status_code == 428
        stale = await http.patch(
            url, json={"position": 1}, headers=company.admin | {"If-Match": '"9"'}
        )
        assert stale.status_code == 412
        moved = await http.patch(
            url,
            json={"position": 1, "name": "谈判", "probability": 85, "guidance": None},
            headers=company.admin | {"If-Match": '"1"'},
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["position"] == 1 and moved.headers["etag"] == '"2"'
        assert moved.json()["guidance"] is None and moved.json()["probability"] == 85
        detail = await default_pipeline(http, company.admin)
        assert names(detail) == ["谈判", "第一次接触", "找准需求", "提供方案", "赢单", "输单"]
        assert [s["position"] for s in detail["stages"]] == [1, 2, 3, 4, 5, 6]
        back = await http.patch(
            url, json={"position": 50}, headers=company.admin | {"If-Match": '"2"'}
        )
        assert back.json()["position"] == 6
        assert names(await default_pipeline(http, company.admin))[-2:] == ["输单", "谈判"]


async def test_history_keeps_names_after_rename():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        pipeline = await default_pipeline(http, company.admin)
        first, second = pipeline["stages"][0], pipeline["stages"][1]
        customer = await create_customer(http, rep, "Acme")
        opportunity = await insert_opportunity(
            company.id, customer["id"], pipeline["id"], second["id"], rep_id
        )
        await insert_move(company.id, opportunity, None, first, clock.now())
        await insert_move(company.id, opportunity, first, second, clock.now(), 60)
        for stage in (first, second):
            response = await http.patch(
                f"/v1/pipelines/{pipeline['id']}/stages/{stage['id']}",
                json={"name": stage["name"] + " (new)"},
                headers=company.admin | {"If-Match": '"1"'},
            )
            assert response.status_code == 200
        history = await rows(
            "SELECT from_stage_name, to_stage_name FROM stage_history WHERE opportunity_id = :o"
            " ORDER BY at, to_stage_name",
            o=opportunity,
        )
        assert {(r.from_stage_name, r.to_stage_name) for r in history} == {
            (None, "第一次接触"),
            ("第一次接触", "找准需求"),
        }


async def test_minimum_stage_kinds_are_kept():
    async with client() as http:
        company = await signup(http)
        made = (
            await http.post(
                "/v1/pipelines", json={"name": "B", "stages": THREE}, headers=company.admin
            )
        ).json()
        talk, won, lost = made["stages"]
        base = f"/v1/pipelines/{made['id']}/stages"
        for stage in (talk, won, lost):
            response = await http.delete(f"{base}/{stage['id']}", headers=company.admin)
            assert response.status_code == 422
            assert response.json()["code"] == "stage_kinds_required"
        rekind = await http.patch(
            f"{base}/{lost['id']}",
            json={"kind": "open"},
            headers=company.admin | {"If-Match": '"1"'},
        )
        assert rekind.status_code == 422 and rekind.json()["missing_kinds"] == ["lost"]
        # With a second open stage, the first may go (never used: deleted outright).
        extra = await http.post(
            base, json={"name": "More", "probability": 50}, headers=company.admin
        )
        assert (await http.delete(f"{base}/{talk['id']}", headers=company.admin)).status_code == 204
        detail = (await http.get(f"/v1/pipelines/{made['id']}", headers=company.admin)).json()
        assert names(detail) == ["Won", "Lost", "More"] and detail["stages"][2]["position"] == 3
        assert extra.json()["id"] == detail["stages"][2]["id"]


async def test_delete_stage_deletes_retires_or_moves():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        pipeline = await default_pipeline(http, company.admin)
        pid = pipeline["id"]
        base = f"/v1/pipelines/{pid}/stages"
        first, second, third, fourth, won, lost = pipeline["stages"]
        customer = await create_customer(http, rep, "Acme")
        # A stage used by history only (the opportunity went on): retired, not deleted.
        passed = await insert_opportunity(company.id, customer["id"], pid, third["id"], rep_id)
        await insert_move(company.id, passed, None, second, clock.now())
        await insert_move(company.id, passed, second, third, clock.now(), 30)
        retired = await http.delete(f"{base}/{second['id']}", headers=company.admin)
        assert retired.status_code == 204
        detail = await default_pipeline(http, company.admin)
        kept = next(s for s in detail["stages"] if s["id"] == second["id"])
        assert kept["retired"] is True and kept["retired_at"] is not None
        assert len(detail["stages"]) == 6 and len(active(detail)) == 5
        again = await http.delete(f"{base}/{second['id']}", headers=company.admin)
        assert again.status_code == 409 and again.json()["code"] == "stage_retired"
        patched = await http.patch(
            f"{base}/{second['id']}",
            json={"name": "x"},
            headers=company.admin | {"If-Match": '"2"'},
        )
        assert patched.status_code == 409 and patched.json()["code"] == "stage_retired"
        # A stage opportunities are in: 409 unless they move.
        clock.advance(timedelta(hours=2))
        await company.relogin_admin()
        inside = [
            await insert_opportunity(company.id, customer["id"], pid, third["id"], rep_id)
            for _ in range(2)
        ]
        busy = await http.delete(f"{base}/{third['id']}", headers=company.admin)
        assert busy.status_code == 409 and busy.json()["code"] == "stage_in_use"
        assert busy.json()["opportunities"] == 3
        for target, code in (
            (won["id"], "stage_kind_mismatch"),
            (third["id"], "unknown_stage"),
            (second["id"], "unknown_stage"),  # retired
            (str(uuid.uuid4()), "unknown_stage"),
        ):
            response = await http.delete(
                f"{base}/{third['id']}?move_to_stage_id={target}", headers=company.admin
            )
            assert response.status_code == 422 and response.json()["code"] == code, target
        clock.freeze(clock.now() + timedelta(hours=1))
        await company.relogin_admin()
        moved = await http.delete(
            f"{base}/{third['id']}?move_to_stage_id={fourth['id']}", headers=company.admin
        )
        assert moved.status_code == 204, moved.text
        now_in = await rows(
            "SELECT id, stage_id, version, stage_entered_at FROM opportunities"
            " WHERE id = ANY(CAST(:ids AS uuid[]))",
            ids=[passed, *inside],
        )
        assert {str(r.stage_id) for r in now_in} == {fourth["id"]}
        assert {r.version for r in now_in} == {2}
        assert {r.stage_entered_at for r in now_in} == {clock.now()}
        history = await rows(
            "SELECT opportunity_id, from_stage_name, to_stage_name, actor_id, seconds_in_previous"
            " FROM stage_history WHERE to_stage_id = :s",
            s=fourth["id"],
        )
        assert len(history) == 3
        assert {(r.from_stage_name, r.to_stage_name) for r in history} == {("提供方案", "商务谈判")}
        assert {str(r.actor_id) for r in history} == {company.admin_id}
        assert sorted(r.seconds_in_previous for r in history) == [3600, 3600, 3 * 3600]
        detail = await default_pipeline(http, company.admin)
        assert next(s for s in detail["stages"] if s["id"] == third["id"])["retired"] is True
        # A stage with only deleted opportunities is not deleted outright either.
        extra = (
            await http.post(base, json={"name": "Extra", "probability": 40}, headers=company.admin)
        ).json()
        await insert_opportunity(company.id, customer["id"], pid, extra["id"], rep_id, deleted=True)
        assert (
            await http.delete(f"{base}/{extra['id']}", headers=company.admin)
        ).status_code == 204
        detail = await default_pipeline(http, company.admin)
        assert next(s for s in detail["stages"] if s["id"] == extra["id"])["retired"] is True
        # A kind change while opportunities are in the stage would contradict their status.
        rekind = await http.patch(
            f"{base}/{fourth['id']}",
            json={"kind": "won"},
            headers=company.admin | {"If-Match": '"1"'},
        )
        assert rekind.status_code == 409 and rekind.json()["code"] == "stage_in_use"
        assert first["id"] in {s["id"] for s in active(detail)}


# ---------- lost reasons ----------


async def test_lost_reasons_list_add_delete():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        listed = (await http.get("/v1/lost-reasons", headers=rep)).json()
        assert listed[0]["label"] == "价格 price" and [r["position"] for r in listed] == list(
            range(1, 7)
        )
        body = {"id": str(uuid.uuid4()), "label": "交期 lead time"}
        made = await http.post("/v1/lost-reasons", json=body, headers=company.admin)
        assert made.status_code == 201 and made.json()["position"] == 7
        again = await http.post("/v1/lost-reasons", json=body, headers=company.admin)
        assert again.status_code == 200 and again.json()["id"] == body["id"]
        conflict = await http.post(
            "/v1/lost-reasons", json=body | {"label": "other"}, headers=company.admin
        )
        assert conflict.status_code == 409 and conflict.json()["code"] == "id_conflict"
        taken = await http.post(
            "/v1/lost-reasons", json={"label": "价格 price"}, headers=company.admin
        )
        assert taken.status_code == 409 and taken.json()["code"] == "lost_reason_taken"
        gone = await http.delete(f"/v1/lost-reasons/{listed[0]['id']}", headers=company.admin)
        assert gone.status_code == 204
        again = await http.delete(f"/v1/lost-reasons/{listed[0]['id']}", headers=company.admin)
        assert again.status_code == 404
        labels = [r["label"] for r in (await http.get("/v1/lost-reasons", headers=rep)).json()]
        assert "价格 price" not in labels and labels[-1] == "交期 lead time"
        # A deleted label may be added again.
        readded = await http.post(
            "/v1/lost-reasons", json={"label": "价格 price"}, headers=company.admin
        )
        assert readded.status_code == 201


async def test_a_pipeline_has_at_most_fifty_stages():
    async with client() as http:
        company = await signup(http)
        many = [{"name": f"S{i}", "probability": 10} for i in range(48)] + THREE[1:]
        made = await http.post(
            "/v1/pipelines", json={"name": "Long", "stages": many}, headers=company.admin
        )
        assert made.status_code == 201 and len(made.json()["stages"]) == 50
        more = await http.post(
            f"/v1/pipelines/{made.json()['id']}/stages",
            json={"name": "One more", "probability": 10},
            headers=company.admin,
        )
        assert more.status_code == 422 and more.json()["code"] == "too_many_stages"
        too_long = await http.post(
            "/v1/pipelines", json={"name": "Longer", "stages": many + THREE}, headers=company.admin
        )
        assert too_long.status_code == 422
