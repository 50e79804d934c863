"""Converting a lead in one step: new customer, linked customer, duplicates, twice, the cap,
the same Idempotency-Key, the company's condition and field mapping, who may."""

import asyncio
import uuid
from datetime import timedelta

from app.core import clock
from tests.customers.helpers import create_customer, set_rules
from tests.helpers import client, signup
from tests.leads.h4_helpers import (
    deliveries,
    make_followup,
    make_lead,
    make_pool,
    rows,
    scalar,
    subscribe,
)

LEAD = {
    "name": "张三",
    "title": "采购经理",
    "company_name": "北京星河科技有限公司",
    "phone": "13800138000",
    "email": "zhang@example.com",
    "region": "北京",
    "industry": "制造业",
    "source": "exhibition",
    "campaign": "2027春季展",
}


async def _setup(http, **lead_fields):
    company = await signup(http)
    rep_id, rep = await company.user("rep")
    pool_id = await make_pool(company.id, member_user_ids=(rep_id,))
    lead_id = await make_lead(company.id, pool_id, owner_id=rep_id, **(LEAD | lead_fields))
    return company, rep_id, rep, pool_id, lead_id


async def _settings(http, headers, **changes):
    etag = (await http.get("/v1/lead-settings", headers=headers)).headers["etag"]
    response = await http.patch(
        "/v1/lead-settings", json=changes, headers=headers | {"If-Match": etag}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_convert_makes_customer_contact_and_opportunity_in_one_go():
    async with client() as http:
        company, rep_id, rep, pool_id, lead_id = await _setup(http)
        await subscribe(company.id, "lead.converted")
        followup_at = clock.now() - timedelta(hours=1)
        followup_id = await make_followup(company.id, rep_id, lead_id, followup_at)
        response = await http.post(
            f"/v1/leads/{lead_id}/convert",
            json={"opportunity": {"name": "星河 ERP", "amount": "120000.00"}},
            headers=rep,
        )
        assert response.status_code == 201, response.text
        answer = response.json()
        assert answer["customer_created"] is True and answer["opportunity_id"]
        customer = (await http.get(f"/v1/customers/{answer['customer_id']}", headers=rep)).json()
        # The default mapping: company name → name, phone, region, industry, source.
        assert customer["name"] == "北京星河科技有限公司" and customer["owner_id"] == rep_id
        assert (customer["phone"], customer["region"], customer["industry"]) == (
            "13800138000",
            "北京",
            "制造业",
        )
        assert customer["source"] == "exhibition"
        contacts = (
            await http.get(f"/v1/customers/{answer['customer_id']}/contacts", headers=rep)
        ).json()["items"]
        assert [(c["id"], c["name"], c["title"], c["phones"], c["email"]) for c in contacts] == [
            (answer["contact_id"], "张三", "采购经理", ["13800138000"], "zhang@example.com")
        ]
        opportunity = (
            await rows(
                "SELECT o.lead_id, o.amount, o.contact_ids, s.position, o.owner_id "
                "FROM opportunities o JOIN pipeline_stages s ON s.id = o.stage_id "
                "WHERE o.id = :id",
                id=answer["opportunity_id"],
            )
        )[0]
        assert str(opportunity.lead_id) == lead_id and str(opportunity.amount) == "120000.00"
        assert [str(c) for c in opportunity.contact_ids] == [answer["contact_id"]]
        first_position = await scalar(
            "SELECT min(position) FROM pipeline_stages WHERE company_id = :c AND kind = 'open'",
            c=company.id,
        )
        assert opportunity.position == first_position and str(opportunity.owner_id) == rep_id
        lead = (
            await rows(
                "SELECT status, converted_customer_id, converted_contact_id, "
                "converted_opportunity_id, converted_at, converted_by FROM leads WHERE id = :id",
                id=lead_id,
            )
        )[0]
        assert lead.status == "converted" and lead.converted_at is not None
        assert [str(lead.converted_customer_id), str(lead.converted_contact_id)] == [
            answer["customer_id"],
            answer["contact_id"],
        ]
        assert str(lead.converted_opportunity_id) == answer["opportunity_id"]
        assert str(lead.converted_by) == rep_id
        # The lead's follow-up is on the customer's timeline now.
        assert (
            str(await scalar("SELECT customer_id FROM followups WHERE id = :id", id=followup_id))
            == answer["customer_id"]
        )
        timeline = (
            await http.get(f"/v1/customers/{answer['customer_id']}/timeline", headers=rep)
        ).json()["items"]
        assert [
            (i["kind"], i["summary"]) for i in timeline if i["kind"].startswith("followup")
        ] == [("followup.call", "called")]
        kinds = await rows("SELECT kind FROM lead_events WHERE lead_id = :id", id=lead_id)
        assert [k.kind for k in kinds] == ["converted"]
        (hook,) = await deliveries(company.id, "lead.converted")
        assert hook["data"]["lead_id"] == lead_id
        assert hook["data"]["customer_id"] == answer["customer_id"]


async def test_a_second_convert_is_409_and_an_idempotent_retry_replays_the_first():
    async with client() as http:
        _, _, rep, _, lead_id = await _setup(http)
        key = {"Idempotency-Key": str(uuid.uuid4())}
        first = await http.post(f"/v1/leads/{lead_id}/convert", json={}, headers=rep | key)
        assert first.status_code == 201, first.text
        retry = await http.post(f"/v1/leads/{lead_id}/convert", json={}, headers=rep | key)
        assert retry.status_code == 201 and retry.json() == first.json()
        assert retry.headers.get("idempotent-replayed") == "true"
        again = await http.post(f"/v1/leads/{lead_id}/convert", json={}, headers=rep)
        assert again.status_code == 409 and again.json()["code"] == "lead_already_converted"
        assert again.json()["converted_customer_id"] == first.json()["customer_id"]
        assert await scalar("SELECT count(*) FROM customers") == 1


async def test_concurrent_converts_one_wins():
    async with client() as http:
        _, _, rep, _, lead_id = await _setup(http)
        url = f"/v1/leads/{lead_id}/convert"
        answers = await asyncio.gather(*(http.post(url, json={}, headers=rep) for _ in range(3)))
        assert sorted(a.status_code for a in answers) == [201, 409, 409]
        assert {a.json()["code"] for a in answers if a.status_code == 409} == {
            "lead_already_converted"
        }
        assert await scalar("SELECT count(*) FROM customers") == 1


async def test_convert_links_an_existing_customer_the_rep_owns():
    async with client() as http:
        company, rep_id, rep, pool_id, lead_id = await _setup(http)
        _, other = await company.user("rep")
        mine = await create_customer(http, rep, "老客户")
        theirs = await create_customer(http, other, "别人的客户")
        pooled = await create_customer(http, company.admin, "公海客户", in_pool=True)
        other_company = await signup(http, "Other")
        foreign = await create_customer(http, other_company.admin, "外公司")
        url = f"/v1/leads/{lead_id}/convert"
        invisible = await http.post(url, json={"existing_customer_id": theirs["id"]}, headers=rep)
        assert invisible.status_code == 404
        foreign_answer = await http.post(
            url, json={"existing_customer_id": foreign["id"]}, headers=rep
        )
        assert foreign_answer.status_code == 404
        in_pool = await http.post(url, json={"existing_customer_id": pooled["id"]}, headers=rep)
        assert in_pool.status_code == 409 and in_pool.json()["code"] == "customer_not_owned"
        both = await http.post(
            url,
            json={"existing_customer_id": mine["id"], "customer": {"name": "x"}},
            headers=rep,
        )
        assert both.status_code == 422
        linked = await http.post(url, json={"existing_customer_id": mine["id"]}, headers=rep)
        assert linked.status_code == 201, linked.text
        assert linked.json()["customer_id"] == mine["id"]
        assert linked.json()["customer_created"] is False
        assert (
            await scalar("SELECT count(*) FROM customers WHERE company_id = :c", c=company.id) == 3
        )


async def test_a_duplicate_the_rep_owns_is_linked_a_pool_duplicate_is_409_in_pool():
    async with client() as http:
        company, rep_id, rep, pool_id, lead_id = await _setup(http)
        mine = await create_customer(http, rep, "北京星河科技")  # the lead's company, normalised
        linked = await http.post(f"/v1/leads/{lead_id}/convert", json={}, headers=rep)
        assert linked.status_code == 201, linked.text
        assert linked.json()["customer_id"] == mine["id"]
        assert linked.json()["customer_created"] is False

        pooled = await create_customer(
            http, company.admin, "上海云帆贸易有限公司", in_pool=True, phone="021-55556666"
        )
        second = await make_lead(
            company.id, pool_id, owner_id=rep_id, name="李四", company_name="上海云帆贸易"
        )
        refused = await http.post(f"/v1/leads/{second}/convert", json={}, headers=rep)
        assert refused.status_code == 409, refused.text
        body = refused.json()
        assert body["code"] == "duplicate_customer" and body["in_pool"] is True
        assert body["existing_customer_id"] == pooled["id"]
        # Nothing of the refused conversion stayed.
        assert await scalar("SELECT status FROM leads WHERE id = :id", id=second) == "new"
        assert (
            await scalar(
                "SELECT count(*) FROM customer_contacts WHERE customer_id = :c", c=pooled["id"]
            )
            == 0
        )


async def test_convert_at_the_holding_cap_is_409():
    async with client() as http:
        company, _, rep, _, lead_id = await _setup(http)
        await set_rules(http, company.admin, holding_cap=1)
        await create_customer(http, rep, "已有客户")
        refused = await http.post(f"/v1/leads/{lead_id}/convert", json={}, headers=rep)
        assert refused.status_code == 409 and refused.json()["code"] == "holding_cap_reached"
        assert await scalar("SELECT status FROM leads WHERE id = :id", id=lead_id) == "new"


async def test_the_conversion_condition_and_the_field_mapping():
    async with client() as http:
        company, rep_id, rep, pool_id, lead_id = await _setup(http)
        defaults = await http.get("/v1/lead-settings", headers=rep)
        assert defaults.status_code == 200 and defaults.headers["etag"] == '"1"'
        assert defaults.json()["field_mapping"]["company_name"] == "name"
        assert defaults.json()["convert_requires_status"] is None

        # Admin only, with If-Match.
        denied = await http.patch(
            "/v1/lead-settings",
            json={"convert_requires_status": "qualified"},
            headers=rep | {"If-Match": '"1"'},
        )
        assert denied.status_code == 403
        missing = await http.patch(
            "/v1/lead-settings",
            json={"convert_requires_status": "qualified"},
            headers=company.admin,
        )
        assert missing.status_code == 428
        stale = await http.patch(
            "/v1/lead-settings",
            json={"convert_requires_status": "qualified"},
            headers=company.admin | {"If-Match": '"7"'},
        )
        assert stale.status_code == 412
        bad = await http.patch(
            "/v1/lead-settings",
            json={"field_mapping": {"company_name": "owner_id"}},
            headers=company.admin | {"If-Match": '"1"'},
        )
        assert bad.status_code == 422
        unknown_field = await http.patch(
            "/v1/lead-settings",
            json={"field_mapping": {"password": "name"}},
            headers=company.admin | {"If-Match": '"1"'},
        )
        assert unknown_field.status_code == 422

        saved = await _settings(
            http,
            company.admin,
            convert_requires_status="qualified",
            field_mapping={
                "company_name": "name",
                "phone": "phone",
                "industry": "custom_fields.行业",
                "campaign": "custom_fields.campaign",
                "region": "address",
            },
        )
        assert saved["version"] == 2 and saved["convert_requires_status"] == "qualified"

        refused = await http.post(f"/v1/leads/{lead_id}/convert", json={}, headers=rep)
        assert refused.status_code == 409 and refused.json()["code"] == "lead_not_convertible"
        assert refused.json()["required_status"] == "qualified"

        qualified = await make_lead(
            company.id,
            pool_id,
            owner_id=rep_id,
            **(LEAD | {"company_name": "深圳海川电子", "phone": "13900000000"}),
            status="qualified",
        )
        converted = await http.post(f"/v1/leads/{qualified}/convert", json={}, headers=rep)
        assert converted.status_code == 201, converted.text
        customer = (
            await http.get(f"/v1/customers/{converted.json()['customer_id']}", headers=rep)
        ).json()
        assert customer["name"] == "深圳海川电子" and customer["address"] == "北京"
        assert customer["industry"] is None and customer["region"] is None
        assert customer["custom_fields"] == {"行业": "制造业", "campaign": "2027春季展"}

        disqualified = await make_lead(
            company.id, pool_id, owner_id=rep_id, name="王五", status="disqualified"
        )
        await _settings(http, company.admin, convert_requires_status=None)
        refused = await http.post(f"/v1/leads/{disqualified}/convert", json={}, headers=rep)
        assert refused.status_code == 409 and refused.json()["code"] == "lead_not_convertible"


async def test_an_explicit_customer_and_contact_body():
    async with client() as http:
        _, _, rep, _, lead_id = await _setup(http)
        response = await http.post(
            f"/v1/leads/{lead_id}/convert",
            json={
                "customer": {"name": "星河集团", "tier": "A"},
                "contact": {"name": "张总", "phones": ["13811112222"]},
            },
            headers=rep,
        )
        assert response.status_code == 201, response.text
        customer_id = response.json()["customer_id"]
        customer = (await http.get(f"/v1/customers/{customer_id}", headers=rep)).json()
        assert (customer["name"], customer["tier"]) == ("星河集团", "A")
        contacts = (await http.get(f"/v1/customers/{customer_id}/contacts", headers=rep)).json()
        assert [c["name"] for c in contacts["items"]] == ["张总"]
        in_pool = await http.post(
            f"/v1/leads/{lead_id}/convert",
            json={"customer": {"name": "y", "in_pool": True}},
            headers=rep,
        )
        assert in_pool.status_code == 422


async def test_who_may_convert():
    async with client() as http:
        company = await signup(http)
        department = await company.department("华北")
        sibling = await company.department("华南")
        _, manager = await company.user("manager", department)
        _, sibling_manager = await company.user("manager", sibling)
        rep_id, rep = await company.user("rep", department)
        other_id, other = await company.user("rep", department)
        pool_id = await make_pool(company.id, member_user_ids=(rep_id, other_id))
        lead_id = await make_lead(
            company.id, pool_id, owner_id=rep_id, name="甲", phone="13800000001"
        )
        pooled = await make_lead(company.id, pool_id, name="乙", phone="13800000002")
        other_company = await signup(http, "Other")
        url = f"/v1/leads/{lead_id}/convert"
        assert (await http.post(url, json={}, headers=other)).status_code == 404
        assert (await http.post(url, json={}, headers=sibling_manager)).status_code == 404
        assert (await http.post(url, json={}, headers=other_company.admin)).status_code == 404
        assert (
            await http.post(f"/v1/leads/{uuid.uuid4()}/convert", json={}, headers=rep)
        ).status_code == 404
        # A pool lead is visible to its members, but a rep claims it first.
        refused = await http.post(f"/v1/leads/{pooled}/convert", json={}, headers=rep)
        assert refused.status_code == 409 and refused.json()["code"] == "lead_not_owned"
        # The owner's manager may convert (the customer is the manager's then).
        done = await http.post(url, json={}, headers=manager)
        assert done.status_code == 201, done.text
