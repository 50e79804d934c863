"""Products: admins write, everyone reads (non-admins active ones only), codes unique among
the company's live products, client ids, If-Match, soft delete that keeps contract lines'
products readable, and other companies' products invisible."""

import uuid

from tests.customers.helpers import create_customer
from tests.helpers import client, signup


async def make_product(http, admin, code="P-1", **fields):
    body = {"name": "CRM 标准版", "code": code, "list_price": "12800.00", **fields}
    response = await http.post("/v1/products", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


async def test_admins_create_with_client_ids_and_codes_are_unique():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        product_id = str(uuid.uuid4())
        body = {
            "id": product_id,
            "name": "CRM 标准版",
            "code": "CRM-STD",
            "unit": "套",
            "list_price": "12800.5",
            "product_line": "软件",
            "description": "Seats for ten",
        }
        created = await http.post("/v1/products", json=body, headers=company.admin)
        assert created.status_code == 201, created.text
        product = created.json()
        assert product["list_price"] == "12800.50" and product["active"] is True
        assert product["id"] == product_id and created.headers["etag"] == '"1"'
        replay = await http.post("/v1/products", json=body, headers=company.admin)
        assert replay.status_code == 200 and replay.json() == product
        other = await http.post(
            "/v1/products", json=body | {"name": "Another"}, headers=company.admin
        )
        assert other.status_code == 409 and other.json()["code"] == "id_conflict"
        taken = await http.post(
            "/v1/products", json=body | {"id": None, "name": "Again"}, headers=company.admin
        )
        assert taken.status_code == 409 and taken.json()["code"] == "product_code_taken"
        refused = await http.post(
            "/v1/products", json=body | {"id": None, "code": "X"}, headers=rep
        )
        assert refused.status_code == 403
        floaty = await http.post(
            "/v1/products",
            json={"name": "x", "code": "F", "list_price": 12.5},
            headers=company.admin,
        )
        assert floaty.status_code == 422
        # Another company may use the same id-less code.
        other_company = await signup(http, name="Globex")
        elsewhere = await http.post(
            "/v1/products", json=body | {"id": None}, headers=other_company.admin
        )
        assert elsewhere.status_code == 201
        # And the same client id of another company is a conflict that says nothing.
        stolen = await http.post("/v1/products", json=body, headers=other_company.admin)
        assert stolen.status_code == 409 and stolen.json()["code"] == "id_conflict"


async def test_everyone_reads_non_admins_active_only_with_filters():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        software = await make_product(http, company.admin, "S-1", product_line="软件")
        await make_product(http, company.admin, "S-2", name="ERP", product_line="软件")
        hardware = await make_product(
            http, company.admin, "H-1", name="扫码枪", product_line="硬件", active=False
        )
        admin_all = (await http.get("/v1/products", headers=company.admin)).json()
        assert [p["code"] for p in admin_all["items"]] == ["H-1", "S-2", "S-1"]
        rep_all = (await http.get("/v1/products", headers=rep)).json()
        assert [p["code"] for p in rep_all["items"]] == ["S-2", "S-1"]
        inactive = await http.get("/v1/products?active=false", headers=company.admin)
        assert [p["code"] for p in inactive.json()["items"]] == ["H-1"]
        assert (await http.get("/v1/products?active=false", headers=rep)).json()["items"] == []
        line = await http.get("/v1/products", params={"product_line": "软件"}, headers=rep)
        assert {p["code"] for p in line.json()["items"]} == {"S-1", "S-2"}
        by_q = await http.get("/v1/products", params={"q": "erp"}, headers=rep)
        assert [p["code"] for p in by_q.json()["items"]] == ["S-2"]
        by_code = await http.get("/v1/products", params={"q": "s-1"}, headers=rep)
        assert [p["code"] for p in by_code.json()["items"]] == ["S-1"]
        page = await http.get("/v1/products?limit=1", headers=company.admin)
        assert page.json()["next_cursor"]
        rest = await http.get(
            f"/v1/products?limit=5&cursor={page.json()['next_cursor']}", headers=company.admin
        )
        assert [p["code"] for p in rest.json()["items"]] == ["S-2", "S-1"]
        assert (await http.get(f"/v1/products/{software['id']}", headers=rep)).status_code == 200
        hidden = await http.get(f"/v1/products/{hardware['id']}", headers=rep)
        assert hidden.status_code == 404
        seen = await http.get(f"/v1/products/{hardware['id']}", headers=company.admin)
        assert seen.status_code == 200 and seen.headers["etag"] == '"1"'
        bad = await http.get("/v1/products?active=1", headers=rep)
        assert bad.status_code == 422
        other_company = await signup(http, name="Globex")
        for path in (f"/v1/products/{software['id']}",):
            assert (await http.get(path, headers=other_company.admin)).status_code == 404
        assert (await http.get("/v1/products", headers=other_company.admin)).json()["items"] == []
        assert (
            await http.patch(
                f"/v1/products/{software['id']}",
                json={"name": "x"},
                headers=other_company.admin | {"If-Match": '"1"'},
            )
        ).status_code == 404
        assert (
            await http.delete(f"/v1/products/{software['id']}", headers=other_company.admin)
        ).status_code == 404


async def test_edit_needs_if_match_and_keeps_codes_unique():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        first = await make_product(http, company.admin, "A")
        await make_product(http, company.admin, "B")
        path = f"/v1/products/{first['id']}"
        missing = await http.patch(path, json={"name": "x"}, headers=company.admin)
        assert missing.status_code == 428 and missing.json()["code"] == "if_match_required"
        stale = await http.patch(
            path, json={"name": "x"}, headers=company.admin | {"If-Match": '"9"'}
        )
        assert stale.status_code == 412 and stale.json()["code"] == "version_mismatch"
        by_rep = await http.patch(path, json={"name": "x"}, headers=rep | {"If-Match": '"1"'})
        assert by_rep.status_code == 403
        taken = await http.patch(
            path, json={"code": "B"}, headers=company.admin | {"If-Match": '"1"'}
        )
        assert taken.status_code == 409 and taken.json()["code"] == "product_code_taken"
        edited = await http.patch(
            path,
            json={"name": "CRM 专业版", "list_price": "20000", "active": False, "unit": None},
            headers=company.admin | {"If-Match": '"1"'},
        )
        assert edited.status_code == 200, edited.text
        body = edited.json()
        assert body["name"] == "CRM 专业版" and body["list_price"] == "20000.00"
        assert body["active"] is False and body["unit"] is None and body["version"] == 2
        assert edited.headers["etag"] == '"2"'


async def test_a_deleted_product_leaves_the_catalogue_but_not_the_contract_lines():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        product = await make_product(http, company.admin, "CRM-STD", list_price="100.00")
        customer = await create_customer(http, rep, "Acme")
        contract = await http.post(
            "/v1/contracts",
            json={
                "customer_id": customer["id"],
                "title": "年度合同",
                "lines": [{"product_id": product["id"], "quantity": "2"}],
            },
            headers=rep,
        )
        assert contract.status_code == 201, contract.text
        assert (await http.delete(f"/v1/products/{product['id']}", headers=rep)).status_code == 403
        gone = await http.delete(f"/v1/products/{product['id']}", headers=company.admin)
        assert gone.status_code == 204
        assert (
            await http.get(f"/v1/products/{product['id']}", headers=company.admin)
        ).status_code == 404
        assert (await http.get("/v1/products", headers=company.admin)).json()["items"] == []
        again = await http.delete(f"/v1/products/{product['id']}", headers=company.admin)
        assert again.status_code == 404
        line = (await http.get(f"/v1/contracts/{contract.json()['id']}", headers=rep)).json()[
            "lines"
        ][0]
        assert line["product_id"] == product["id"] and line["product_code"] == "CRM-STD"
        assert line["product_name"] == "CRM 标准版" and line["amount"] == "200.00"
        # Its code is free again, and a line may no longer name it.
        assert (await make_product(http, company.admin, "CRM-STD"))["code"] == "CRM-STD"
        refused = await http.post(
            "/v1/contracts",
            json={
                "customer_id": customer["id"],
                "title": "x",
                "lines": [{"product_id": product["id"], "quantity": "1"}],
            },
            headers=rep,
        )
        assert refused.status_code == 422 and refused.json()["code"] == "unknown_product"
        assert refused.json()["errors"][0]["loc"] == ["body", "lines", 0, "product_id"]
        assert rep_id
