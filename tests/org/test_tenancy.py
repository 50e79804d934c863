"""Nothing crosses companies: every id-taking route answers 404 for another company's ids."""

import re
import uuid

import pytest

from app.main import app
from tests.helpers import client, signup

# Path parameter → which of company A's records to aim at. A new route with a new
# parameter fails test_every_path_parameter_is_covered until it is added here.
PARAMETER_TARGETS = {
    "department_id": "department",
    "user_id": "user",
    "customer_id": "customer",
    "contact_id": "contact",
    "pool_id": "pool",
    "checkin_id": "checkin",
    "followup_id": "followup",
    "file_id": "file",
    "log_id": "log",
    "plan_id": "plan",
    "item_id": "item",
    "comment_id": "comment",
    "notification_id": "notification",
    "device_id": "device",
    "webhook_id": "webhook",
    "pipeline_id": "pipeline",
    "stage_id": "stage",
    "reason_id": "lost_reason",
    "opportunity_id": "opportunity",
    "lead_id": "lead",
    "import_id": "import",
    "campaign_id": "campaign",
    "product_id": "product",
    "contract_id": "contract",
    "payment_id": "payment",
    "flow_id": "flow",
    "approval_id": "approval",
    "target_id": "target",
    "task_id": "task",
    "ticket_id": "ticket",
    "site_id": "attendance_site",
}
# A parameter name that means another record under some paths.
PATH_TARGETS = {
    "/v1/lead-pools/": {"pool_id": "lead_pool"},
    "/v1/contracts/": {"plan_id": "payment_plan"},
}


def target_of(path: str, parameter: str) -> str:
    for prefix, overrides in PATH_TARGETS.items():
        if path.startswith(prefix) and parameter in overrides:
            return overrides[parameter]
    return PARAMETER_TARGETS[parameter]


NOT_TENANT_IDS = {"name"}
# Valid bodies, so a 404 cannot hide behind a 422 (user ids filled in at run time).
BODIES = {
    "/v1/customers/{customer_id}/collaborators": {"user_id": "{b_user}", "role": "technical"},
    "/v1/customers/{customer_id}/release": {"reason": "tenancy check"},
    "/v1/customers/{customer_id}/transfer": {"to_user_id": "{b_user}"},
    "/v1/customers/{customer_id}/contacts": {"name": "Wang"},
    "PATCH /v1/feed/{item_id}/comments/{comment_id}": {"body": "edited"},
    "/v1/feed/{item_id}/comments": {"body": "hi"},
    "/v1/opportunities/{opportunity_id}/advance": {"to_stage_id": "{a_stage}"},
    "/v1/pipelines/{pipeline_id}/stages": {"name": "X", "probability": 50},
    "/v1/leads/{lead_id}/assign": {"user_id": "{b_user}"},
    "/v1/contracts/{contract_id}/payment-plans": {"due_date": "2027-01-31", "amount": "10.00"},
    "/v1/contracts/{contract_id}/terminate": {"reason": "tenancy check"},
    "/v1/payments/{payment_id}/reverse": {"reason": "tenancy check"},
    "/v1/approvals/{approval_id}/reject": {"reason": "tenancy check"},
    "/v1/targets/{target_id}/split": {"by": "period", "method": "even"},
    "/v1/tickets/{ticket_id}/resolve": {"resolution": "tenancy check"},
    "PATCH /v1/attendance/sites/{site_id}": {"radius_m": 500},
}  # /v1/admin/jobs/{name}: job names are global, not records


# Required query parameters of list routes, aimed at company A's data.
LIST_PARAMS = {
    "/v1/customers/nearby": {"lat": 39.9, "lng": 116.4, "radius_m": 50_000},
    "/v1/customers/duplicates": {"name": "A Co"},
    "/v1/reports/visits": {"from": "2026-01-01", "to": "2026-12-31"},
    "/v1/reports/work": {"from": "2026-01-01", "to": "2026-12-31"},
    "/v1/reports/visited-customers": {"from": "2026-01-01", "to": "2026-12-31"},
    "/v1/targets/suggest": {
        "subject": "company",
        "measure": "contract_amount",
        "period": "2026-12",
    },
    "/v1/reports/customer-map": {"bbox": "116.2,39.7,116.6,40.1", "cell_m": 1000},
    "/v1/reports/tickets": {"from": "2026-01-01", "to": "2026-12-31"},
}


def tiny_png() -> bytes:
    """A real 1×1 PNG."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (1, 1), (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


async def attendance_targets(http, admin: dict, rep: dict) -> dict[str, str]:  # noqa: ANN001
    """Company A's work site (and a clock-in, for the list walk)."""
    site = await http.post(
        "/v1/attendance/sites",
        json={"name": "A office", "location": {"lat": 39.9, "lng": 116.4}, "radius_m": 200},
        headers=admin,
    )
    clocked = await http.post(
        "/v1/attendance/clock-in",
        json={
            "location": {"lat": 39.9, "lng": 116.4},
            "client_recorded_at": "2026-11-23T01:00:00Z",
        },
        headers=rep,
    )
    assert site.status_code == 201 and clocked.status_code == 201, (site.text, clocked.text)
    return {"attendance_site": site.json()["id"], "attendance_record": clocked.json()["id"]}


async def task_and_ticket_targets(http, rep: dict, customer_id: str) -> dict[str, str]:  # noqa: ANN001
    """Company A's task and service ticket (on its customer)."""
    task = await http.post(
        "/v1/tasks",
        json={"title": "Call back", "due_at": "2026-12-01T02:00:00Z", "customer_id": customer_id},
        headers=rep,
    )
    ticket = await http.post(
        "/v1/tickets",
        json={"customer_id": customer_id, "kind": "complaint", "description": "Late delivery"},
        headers=rep,
    )
    assert task.status_code == 201 and ticket.status_code == 201, (task.text, ticket.text)
    return {"task": task.json()["id"], "ticket": ticket.json()["id"]}


async def pipeline_and_lead_targets(
    http, admin: dict, rep: dict, customer_id: str
) -> dict[str, str]:  # noqa: ANN001
    """Company A's pipeline, stage, lost reason, opportunity, lead pool, lead, import and
    campaign."""
    [pipeline] = (await http.get("/v1/pipelines", headers=admin)).json()
    stage = (await http.get(f"/v1/pipelines/{pipeline['id']}", headers=admin)).json()["stages"][1]
    [reason, *_] = (await http.get("/v1/lost-reasons", headers=admin)).json()
    opportunity = (
        await http.post(
            "/v1/opportunities", json={"customer_id": customer_id, "name": "A deal"}, headers=rep
        )
    ).json()
    lead_pool = (await http.post("/v1/lead-pools", json={"name": "A leads"}, headers=admin)).json()
    lead = (await http.post("/v1/leads", json={"name": "A lead"}, headers=admin)).json()
    upload = await http.post(
        "/v1/leads/import",
        files={"file": ("a.csv", b"name\nA imported\n", "text/csv")},
        headers=admin,
    )
    campaign = (
        await http.post("/v1/lead-campaigns", json={"name": "A fair"}, headers=admin)
    ).json()
    made = {
        "pipeline": pipeline["id"],
        "stage": stage["id"],
        "lost_reason": reason["id"],
        "opportunity": opportunity.get("id"),
        "lead_pool": lead_pool.get("id"),
        "lead": lead.get("id"),
        "import": upload.json().get("id"),
        "campaign": campaign.get("id"),
    }
    assert all(made.values()), made
    return {**made, **await money_targets(http, admin, rep, customer_id)}


async def money_targets(http, admin: dict, rep: dict, customer_id: str) -> dict[str, str]:  # noqa: ANN001
    """Company A's product, contract (active, with an instalment and a payment), approval flow
    and a pending approval."""
    product = (
        await http.post(
            "/v1/products",
            json={"name": "A kit", "code": "A-1", "list_price": "100.00"},
            headers=admin,
        )
    ).json()
    contract = (
        await http.post(
            "/v1/contracts",
            json={"customer_id": customer_id, "title": "A contract", "amount": "1000.00"},
            headers=rep,
        )
    ).json()
    submitted = await http.post(f"/v1/contracts/{contract['id']}/submit", headers=rep)
    assert submitted.json()["status"] == "active", submitted.text
    plan = (
        await http.post(
            f"/v1/contracts/{contract['id']}/payment-plans",
            json={"due_date": "2027-01-31", "amount": "500.00"},
            headers=rep,
        )
    ).json()
    payment = (
        await http.post(
            "/v1/payments",
            json={
                "contract_id": contract["id"],
                "amount": "100.00",
                "received_on": "2026-11-30",
                "method": "bank_transfer",
            },
            headers=rep,
        )
    ).json()
    flow = (
        await http.post(
            "/v1/approval-flows",
            json={
                "kind": "contract",
                "name": "A flow",
                "steps": [{"approvers": {"type": "role", "role": "admin"}, "mode": "any"}],
            },
            headers=admin,
        )
    ).json()
    second = (
        await http.post(
            "/v1/contracts",
            json={"customer_id": customer_id, "title": "A second", "amount": "10.00"},
            headers=rep,
        )
    ).json()
    pending = (await http.post(f"/v1/contracts/{second['id']}/submit", headers=rep)).json()
    target = (
        await http.post(
            "/v1/targets",
            json={
                "subject": "company",
                "measure": "contract_amount",
                "period": "2026",
                "value": "1200.00",
            },
            headers=admin,
        )
    ).json()
    made = {
        "target": target.get("id"),
        "product": product.get("id"),
        "contract": contract.get("id"),
        "payment_plan": plan.get("id"),
        "payment": payment.get("id"),
        "flow": flow.get("id"),
        "approval": pending.get("approval_id"),
    }
    assert all(made.values()), (made, pending)
    return made


def id_routes() -> list[tuple[str, str]]:
    """(method, path template) of every served route that takes a path parameter."""
    return sorted(
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if "{" in path
        for method in operations
    )


def test_every_path_parameter_is_covered():
    assert len(id_routes()) >= 25
    for _, path in id_routes():
        for parameter in re.findall(r"{(\w+)}", path):
            assert (
                parameter in PARAMETER_TARGETS
                or parameter in NOT_TENANT_IDS
                or any(parameter in o for o in PATH_TARGETS.values())
            ), path


async def test_company_b_gets_404_for_every_company_a_id_on_every_route():
    async with client() as http:
        a = await signup(http, "Company A")
        b = await signup(http, "Company B")
        a_department = await a.department("A East")
        a_user, a_rep = await a.user("rep", a_department)
        customer = (await http.post("/v1/customers", json={"name": "A Co"}, headers=a_rep)).json()
        contact = (
            await http.post(
                f"/v1/customers/{customer['id']}/contacts", json={"name": "Wang"}, headers=a_rep
            )
        ).json()
        pool = (
            await http.post("/v1/pools", json={"name": "SH", "regions": ["上海"]}, headers=a.admin)
        ).json()
        await http.post(
            f"/v1/customers/{customer['id']}/collaborators",
            json={"user_id": a_user, "role": "technical"},
            headers=a.admin,
        )
        checkin = (
            await http.post(
                "/v1/checkins",
                json={
                    "customer_id": customer["id"],
                    "location": {"lat": 39.9, "lng": 116.4},
                    "client_recorded_at": "2026-11-23T02:00:00Z",
                    "photo_ids": [],
                },
                headers=a_rep,
            )
        ).json()
        followup = (
            await http.post(
                "/v1/followups",
                json={"customer_id": customer["id"], "kind": "call", "text": "hello"},
                headers=a_rep,
            )
        ).json()
        uploaded = (
            await http.post(
                "/v1/files", files={"file": ("a.png", tiny_png(), "image/png")}, headers=a_rep
            )
        ).json()
        log = (await http.post("/v1/logs", json={"text": "day"}, headers=a_rep)).json()
        plan = (
            await http.post(
                "/v1/visit-plans",
                json={"customer_id": customer["id"], "plan_date": "2026-12-01"},
                headers=a_rep,
            )
        ).json()
        await http.post(
            "/v1/followups",
            json={"customer_id": customer["id"], "kind": "visit", "text": "by admin"},
            headers=a.admin,
        )
        item = (await http.get("/v1/feed", headers=a_rep)).json()["items"][0]
        comment = (
            await http.post(
                f"/v1/feed/{item['id']}/comments", json={"body": "nice"}, headers=a.admin
            )
        ).json()
        notification = (await http.get("/v1/notifications", headers=a_rep)).json()["items"][0]
        device = (
            await http.post(
                "/v1/devices",
                json={"platform": "fcm", "token": "tenancy-token-a:0123456789"},
                headers=a_rep,
            )
        ).json()
        webhook = (
            await http.post(
                "/v1/webhooks",
                json={"url": "https://93.184.216.34/hook", "event_types": ["followup.created"]},
                headers=a.admin,
            )
        ).json()
        targets = {
            "department": a_department,
            "user": a_user,
            "customer": customer["id"],
            "contact": contact["id"],
            "pool": pool["id"],
            "checkin": checkin["id"],
            "followup": followup["id"],
            "file": uploaded["id"],
            "log": log["id"],
            "plan": plan["id"],
            "item": item["id"],
            "comment": comment["id"],
            "notification": notification["id"],
            "device": device.get("id") or pytest.fail(str(device)),
            "webhook": webhook.get("id") or pytest.fail(str(webhook)),
            **await attendance_targets(http, a.admin, a_rep),
            **await task_and_ticket_targets(http, a_rep, customer["id"]),
            **await pipeline_and_lead_targets(http, a.admin, a_rep, customer["id"]),
        }
        checked = 0
        for method, path in id_routes():
            parameters = re.findall(r"{(\w+)}", path)
            if any(p in NOT_TENANT_IDS for p in parameters):
                continue
            url = path
            for parameter in parameters:
                url = url.replace("{" + parameter + "}", targets[target_of(path, parameter)])
            json_body = None
            if method in {"POST", "PATCH", "PUT"}:
                template = BODIES.get(
                    f"{method} {path}", BODIES.get(path, {}) if method == "POST" else {}
                )
                json_body = {
                    k: v.replace("{b_user}", b.admin_id).replace("{a_stage}", targets["stage"])
                    if isinstance(v, str)
                    else v
                    for k, v in template.items()
                }
            response = await http.request(method, url, json=json_body, headers=b.admin)
            assert response.status_code == 404, (method, url, response.status_code, response.text)
            assert response.json()["code"] == "not_found"
            random_url = re.sub(r"[0-9a-f-]{36}", str(uuid.uuid4()), url)
            random_response = await http.request(
                method, random_url, json=json_body, headers=b.admin
            )
            assert random_response.status_code == 404
            assert random_response.json() == {
                **response.json(),
                "instance": random_response.json()["instance"],
            }
            checked += 1
        assert checked >= 20
        # Company A's records are untouched.
        user = await http.get(f"/v1/users/{a_user}", headers=a.admin)
        assert user.json()["is_active"] is True


async def test_list_endpoints_never_show_another_companys_rows():
    async with client() as http:
        a = await signup(http, "Company A")
        b = await signup(http, "Company B")
        a_department = await a.department("A East")
        a_user, a_rep = await a.user("rep", a_department)
        customer = (
            await http.post(
                "/v1/customers",
                json={"name": "A Co", "location": {"lat": 39.9, "lng": 116.4}},
                headers=a_rep,
            )
        ).json()
        pooled = (
            await http.post(
                "/v1/customers", json={"name": "A Pool", "in_pool": True}, headers=a.admin
            )
        ).json()
        a_ids = {
            a.id,
            a_department,
            a_user,
            a.admin_id,
            a.root_department_id,
            customer["id"],
            pooled["id"],
            customer["pool_id"],
            *(await pipeline_and_lead_targets(http, a.admin, a_rep, customer["id"])).values(),
            *(await attendance_targets(http, a.admin, a_rep)).values(),
            *(await task_and_ticket_targets(http, a_rep, customer["id"])).values(),
        }
        list_paths = [
            path
            for path, operations in app.openapi()["paths"].items()
            if "get" in operations and "{" not in path and path.startswith("/v1/")
        ]
        assert "/v1/users" in list_paths and "/v1/departments" in list_paths
        for path in list_paths:
            response = await http.get(path, params=LIST_PARAMS.get(path), headers=b.admin)
            assert response.status_code == 200, (path, response.text)
            assert not any(identifier in response.text for identifier in a_ids), path
