import uuid
from datetime import datetime, timedelta

from app.core import clock
from tests.customers.helpers import BEIJING, create_customer, set_rules
from tests.helpers import client, signup


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


async def test_create_makes_the_caller_owner_with_a_recycle_clock():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        customer = await create_customer(
            http,
            rep,
            "北京华联商厦有限公司",
            industry="retail",
            tier="A",
            location=BEIJING | {"crs": "gcj02"},
            custom_fields={"erp_code": "X1"},
            tags=["vip"],
        )
        me = (await http.get("/v1/me", headers=rep)).json()["user"]["id"]
        assert customer["owner_id"] == me and customer["in_pool"] is False
        assert customer["recycle_reason"] == "no_followup"
        assert parse(customer["recycle_at"]) - parse(customer["claimed_at"]) == timedelta(days=15)
        # Sent in GCJ-02, stored in WGS-84: the stored point is ~600 m west/south of the input.
        assert customer["location"]["crs"] == "wgs84"
        assert customer["location"]["lng"] < BEIJING["lng"]
        as_gcj = (
            await http.get(f"/v1/customers/{customer['id']}", params={"crs": "gcj02"}, headers=rep)
        ).json()
        assert abs(as_gcj["location"]["lat"] - BEIJING["lat"]) < 1e-6
        assert abs(as_gcj["location"]["lng"] - BEIJING["lng"]) < 1e-6


async def test_owner_and_clock_fields_are_not_writable():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        for field, value in [
            ("owner_id", str(uuid.uuid4())),
            ("recycle_at", "2030-01-01T00:00:00Z"),
            ("last_followup_at", "2030-01-01T00:00:00Z"),
            ("claimed_at", "2030-01-01T00:00:00Z"),
        ]:
            response = await http.post(
                "/v1/customers", json={"name": f"X {field}", field: value}, headers=rep
            )
            assert response.status_code == 422, field
        customer = await create_customer(http, rep, "Acme")
        etag = (await http.get(f"/v1/customers/{customer['id']}", headers=rep)).headers["etag"]
        patch = await http.patch(
            f"/v1/customers/{customer['id']}",
            json={"owner_id": None},
            headers=rep | {"If-Match": etag},
        )
        assert patch.status_code == 422


async def test_patch_requires_if_match_and_refuses_stale_versions():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme")
        url = f"/v1/customers/{customer['id']}"
        missing = await http.patch(url, json={"industry": "x"}, headers=rep)
        assert missing.status_code == 428 and missing.json()["code"] == "if_match_required"
        etag = (await http.get(url, headers=rep)).headers["etag"]
        ok = await http.patch(url, json={"industry": "finance"}, headers=rep | {"If-Match": etag})
        assert ok.status_code == 200 and ok.json()["industry"] == "finance"
        assert ok.headers["etag"] != etag
        stale = await http.patch(url, json={"industry": "retail"}, headers=rep | {"If-Match": etag})
        assert stale.status_code == 412 and stale.json()["code"] == "version_mismatch"


async def test_client_supplied_id_makes_create_retry_safe():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        customer_id = str(uuid.uuid4())
        body = {"id": customer_id, "name": "Offline Co", "phone": "13800138000"}
        first = await http.post("/v1/customers", json=body, headers=rep)
        again = await http.post("/v1/customers", json=body, headers=rep)
        assert first.status_code == 201 and again.status_code == 200
        assert again.json()["id"] == customer_id
        different = await http.post("/v1/customers", json=body | {"name": "Other Co"}, headers=rep)
        assert different.status_code == 409 and different.json()["code"] == "id_conflict"


async def test_duplicate_names_and_phones_are_refused_with_the_existing_id():
    async with client() as http:
        company = await signup(http)
        _, rep_a = await company.user("rep")
        _, rep_b = await company.user("rep")
        original = await create_customer(
            http, rep_a, "北京华联商厦有限公司", phone="+86 138-0013-8000"
        )
        same_name = await http.post("/v1/customers", json={"name": "北京华联商厦"}, headers=rep_b)
        assert same_name.status_code == 409
        body = same_name.json()
        assert body["code"] == "duplicate_customer"
        assert body["existing_customer_id"] == original["id"]
        assert body["visible"] is False and body["in_pool"] is False
        same_phone = await http.post(
            "/v1/customers", json={"name": "Another", "phone": "13800138000"}, headers=rep_b
        )
        assert same_phone.status_code == 409
        check = (
            await http.get(
                "/v1/customers/duplicates",
                params={"name": "北京 华联商厦 股份有限公司"},
                headers=rep_b,
            )
        ).json()
        assert check["duplicates"][0]["customer_id"] == original["id"]
        assert check["duplicates"][0]["name"] is None  # not visible to rep_b: no name leak
        width = await http.post("/v1/customers", json={"name": "ＡＣＭＥ Co., Ltd."}, headers=rep_a)
        assert width.status_code == 201
        assert (
            await http.post("/v1/customers", json={"name": "acme"}, headers=rep_b)
        ).status_code == 409


async def test_duplicate_of_a_pool_customer_says_claim_it():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        pooled = await create_customer(http, company.admin, "Pool Co", in_pool=True)
        response = await http.post("/v1/customers", json={"name": "POOL CO."}, headers=rep)
        assert response.status_code == 409
        assert response.json()["in_pool"] is True and response.json()["visible"] is True
        assert response.json()["existing_customer_id"] == pooled["id"]


async def test_list_filters_by_owner_industry_custom_field_and_distance():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        near = await create_customer(
            http, rep, "Near", industry="finance", location=BEIJING, custom_fields={"erp": "A"}
        )
        await create_customer(
            http,
            rep,
            "Far",
            industry="retail",
            location={"lat": 31.2304, "lng": 121.4737},
            custom_fields={"erp": "B"},
        )
        await create_customer(http, company.admin, "Pooled", in_pool=True)

        async def names(**params):
            response = await http.get("/v1/customers", params=params, headers=rep)
            assert response.status_code == 200, response.text
            return {c["name"] for c in response.json()["items"]}

        assert await names(owner="me") == {"Near", "Far"}
        assert await names() == {"Near", "Far", "Pooled"}
        assert await names(industry="finance") == {"Near"}
        assert await names(cf="erp:B") == {"Far"}
        assert await names(near="39.91,116.40", radius_m=2000) == {"Near"}
        assert await names(q="ea") == {"Near"}
        bad = await http.get("/v1/customers", params={"near": "north"}, headers=rep)
        assert bad.status_code == 422
        assert near["id"]


async def test_winning_a_customer_exempts_it_and_a_deal_restarts_the_deal_clock():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme")
        url = f"/v1/customers/{customer['id']}"
        clock.advance(timedelta(days=10))
        await company.relogin_admin()
        deal = await http.post(f"{url}/deals", json={"amount": "1000.00"}, headers=company.admin)
        assert deal.status_code == 201
        won = (await http.get(url, headers=company.admin)).json()
        assert won["status"] == "won" and won["last_deal_at"] is not None
        assert won["recycle_at"] is None and won["recycle_reason"] is None
        await set_rules(http, company.admin, won_exempt=False)
        not_exempt = (await http.get(url, headers=company.admin)).json()
        assert not_exempt["recycle_at"] is not None


async def test_won_and_lost_are_set_by_deals_only_the_other_statuses_by_hand():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        for status in ("won", "lost"):
            created = await http.post(
                "/v1/customers", json={"name": f"Co {status}", "status": status}, headers=rep
            )
            assert created.status_code == 422, created.text
            assert created.json()["code"] == "status_needs_deal"
            assert created.json()["errors"][0]["loc"] == ["body", "status"]
        customer = await create_customer(http, rep, "Acme")
        url = f"/v1/customers/{customer['id']}"
        for status in ("won", "lost"):
            etag = (await http.get(url, headers=rep)).headers["etag"]
            patched = await http.patch(
                url, json={"status": status}, headers=rep | {"If-Match": etag}
            )
            assert patched.status_code == 422 and patched.json()["code"] == "status_needs_deal"
        after = (await http.get(url, headers=rep)).json()
        assert after["status"] == "prospect" and after["recycle_at"] is not None
        assert after["last_deal_at"] is None
        for status in ("active", "prospect"):
            etag = (await http.get(url, headers=rep)).headers["etag"]
            patched = await http.patch(
                url, json={"status": status}, headers=rep | {"If-Match": etag}
            )
            assert patched.status_code == 200 and patched.json()["status"] == status
        # After a deal the customer is won; sending its status back unchanged is no change.
        assert (await http.post(f"{url}/deals", json={}, headers=rep)).status_code == 201
        etag = (await http.get(url, headers=rep)).headers["etag"]
        same = await http.patch(
            url, json={"status": "won", "industry": "retail"}, headers=rep | {"If-Match": etag}
        )
        assert same.status_code == 200 and same.json()["status"] == "won"


async def test_soft_deleted_customer_disappears():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Gone", phone="13900000000")
        assert (
            await http.delete(f"/v1/customers/{customer['id']}", headers=rep)
        ).status_code == 204
        assert (await http.get(f"/v1/customers/{customer['id']}", headers=rep)).status_code == 404
        # A deleted customer no longer blocks its name.
        assert (
            await http.post(
                "/v1/customers", json={"name": "Gone", "phone": "13900000000"}, headers=rep
            )
        ).status_code == 201


async def test_contacts_crud_with_single_primary():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme")
        url = f"/v1/customers/{customer['id']}/contacts"
        first = await http.post(
            url,
            json={
                "name": "王总",
                "title": "CEO",
                "phones": ["13800000001"],
                "birthday": "1980-05-01",
                "is_primary": True,
            },
            headers=rep,
        )
        assert first.status_code == 201
        second = await http.post(
            url, json={"name": "李工", "is_primary": True, "email": "li@example.test"}, headers=rep
        )
        assert second.status_code == 201
        contacts = {c["name"]: c for c in (await http.get(url, headers=rep)).json()["items"]}
        assert contacts["李工"]["is_primary"] and not contacts["王总"]["is_primary"]
        contact_url = f"{url}/{first.json()['id']}"
        missing = await http.patch(contact_url, json={"title": "Chairman"}, headers=rep)
        assert missing.status_code == 428 and missing.json()["code"] == "if_match_required"
        etag = first.headers["etag"]
        edited = await http.patch(
            contact_url, json={"title": "Chairman"}, headers=rep | {"If-Match": etag}
        )
        assert edited.json()["title"] == "Chairman" and edited.headers["etag"] != etag
        stale = await http.patch(
            contact_url, json={"title": "CEO"}, headers=rep | {"If-Match": etag}
        )
        assert stale.status_code == 412
        assert (await http.delete(f"{url}/{first.json()['id']}", headers=rep)).status_code == 204
        assert len((await http.get(url, headers=rep)).json()["items"]) == 1
