"""Campaigns: admins write them, everyone in the company reads them."""

import uuid

from tests.helpers import client, signup


async def test_campaigns_admin_writes_everyone_reads():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        other = await signup(http, "Other")
        body = {
            "id": str(uuid.uuid4()),
            "name": "2027春季展",
            "source": "exhibition",
            "cost": "30000.50",
        }
        created = await http.post("/v1/lead-campaigns", json=body, headers=company.admin)
        assert created.status_code == 201, created.text
        campaign = created.json()
        assert (campaign["cost"], campaign["source"], campaign["version"]) == (
            "30000.50",
            "exhibition",
            1,
        )
        assert created.headers["etag"] == '"1"'
        retry = await http.post("/v1/lead-campaigns", json=body, headers=company.admin)
        assert retry.status_code == 200 and retry.json()["id"] == campaign["id"]
        reused = await http.post(
            "/v1/lead-campaigns", json=body | {"cost": "1.00"}, headers=company.admin
        )
        assert reused.status_code == 409 and reused.json()["code"] == "id_conflict"
        same_name = await http.post(
            "/v1/lead-campaigns", json={"name": "2027春季展"}, headers=company.admin
        )
        assert same_name.status_code == 409 and same_name.json()["code"] == "duplicate_campaign"
        free = await http.post(
            "/v1/lead-campaigns", json={"name": "线上推广"}, headers=company.admin
        )
        assert free.status_code == 201 and free.json()["cost"] == "0.00"

        assert (
            await http.post("/v1/lead-campaigns", json={"name": "x"}, headers=rep)
        ).status_code == 403
        for bad in (
            {"name": "y", "cost": 12.5},
            {"name": "y", "cost": "-1"},
            {"name": "y", "source": "tv"},
        ):
            assert (
                await http.post("/v1/lead-campaigns", json=bad, headers=company.admin)
            ).status_code == 422

        listed = (await http.get("/v1/lead-campaigns", headers=rep)).json()
        assert [c["name"] for c in listed["items"]] == ["线上推广", "2027春季展"]
        url = f"/v1/lead-campaigns/{campaign['id']}"
        assert (await http.get(url, headers=rep)).json()["name"] == "2027春季展"
        assert (await http.get(url, headers=other.admin)).status_code == 404
        assert (await http.get("/v1/lead-campaigns", headers=other.admin)).json()["items"] == []

        change = {"cost": "32000.00"}
        assert (await http.patch(url, json=change, headers=company.admin)).status_code == 428
        stale = await http.patch(url, json=change, headers=company.admin | {"If-Match": '"9"'})
        assert stale.status_code == 412
        denied = await http.patch(url, json=change, headers=rep | {"If-Match": '"1"'})
        assert denied.status_code == 403
        changed = await http.patch(url, json=change, headers=company.admin | {"If-Match": '"1"'})
        assert changed.status_code == 200 and changed.json()["cost"] == "32000.00"
        assert changed.json()["version"] == 2 and changed.headers["etag"] == '"2"'
        clash = await http.patch(
            url, json={"name": "线上推广"}, headers=company.admin | {"If-Match": '"2"'}
        )
        assert clash.status_code == 409 and clash.json()["code"] == "duplicate_campaign"

        assert (await http.delete(url, headers=rep)).status_code == 403
        assert (await http.delete(url, headers=other.admin)).status_code == 404
        assert (await http.delete(url, headers=company.admin)).status_code == 204
        assert (await http.get(url, headers=rep)).status_code == 404
        # The name is free again.
        again = await http.post(
            "/v1/lead-campaigns", json={"name": "2027春季展"}, headers=company.admin
        )
        assert again.status_code == 201
