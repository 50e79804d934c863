"""A deactivated user's open leads go to the successor, or back to their pools."""

from tests.helpers import client, signup
from tests.leads.pool_helpers import make_lead, make_pool


async def test_deactivation_hands_open_leads_to_the_successor_or_the_pool():
    async with client() as http:
        company = await signup(http)
        pool = await make_pool(http, company.admin)
        leaver_id, leaver = await company.user("rep")
        successor_id, _ = await company.user("rep")
        open_lead = await make_lead(http, leaver, "张三", phone="13800000001")
        lost = await make_lead(http, leaver, "李四", phone="13800000002")
        disqualified = await http.patch(
            f"/v1/leads/{lost['id']}",
            json={"status": "disqualified"},
            headers={**leaver, "If-Match": f'"{lost["version"]}"'},
        )
        assert disqualified.status_code == 200, disqualified.text
        response = await http.post(
            f"/v1/users/{leaver_id}/deactivate",
            json={"successor_id": successor_id},
            headers=company.admin,
        )
        assert response.status_code == 200
        handed = (await http.get(f"/v1/leads/{open_lead['id']}", headers=company.admin)).json()
        assert handed["owner_id"] == successor_id
        kept = (await http.get(f"/v1/leads/{lost['id']}", headers=company.admin)).json()
        assert kept["owner_id"] == leaver_id  # a closed lead stays with its history
        events = (
            await http.get(f"/v1/leads/{open_lead['id']}/events", headers=company.admin)
        ).json()["items"]
        assert events[0]["kind"] == "assigned" and events[0]["reason"] == "owner_deactivated"
        successor = await company.relogin(successor_id)
        inbox = (await http.get("/v1/notifications", headers=successor)).json()["items"]
        assert [n["kind"] for n in inbox].count("lead_assigned") == 1

        other_id, other = await company.user("rep")
        pooled = await make_lead(http, other, "王五", phone="13800000003")
        await http.post(f"/v1/users/{other_id}/deactivate", headers=company.admin)
        back = (await http.get(f"/v1/leads/{pooled['id']}", headers=company.admin)).json()
        assert back["owner_id"] is None and back["pool_id"] == pool["id"]
        events = (await http.get(f"/v1/leads/{pooled['id']}/events", headers=company.admin)).json()[
            "items"
        ]
        assert events[0]["kind"] == "released" and events[0]["reason"] == "owner_deactivated"
