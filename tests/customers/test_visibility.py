"""The visibility matrix: who can see and do what to a customer."""

from tests.customers.helpers import create_customer
from tests.helpers import client, signup


async def setup_world(http):
    company = await signup(http)
    east = await company.department("East")
    east_team = await company.department("East Team", east)
    west = await company.department("West")
    owner_id, owner = await company.user("rep", east_team)
    collaborator_id, collaborator = await company.user("rep", west)
    bystander_id, bystander = await company.user("rep", east_team)
    _, east_manager = await company.user("manager", east)
    _, west_manager = await company.user("manager", west)
    customer = await create_customer(http, owner, "Matrix Co")
    added = await http.post(
        f"/v1/customers/{customer['id']}/collaborators",
        json={"user_id": collaborator_id, "role": "technical"},
        headers=owner,
    )
    assert added.status_code == 200
    other = await signup(http, "Other Co")
    return {
        "company": company,
        "customer": customer,
        "owner": owner,
        "collaborator": collaborator,
        "bystander": bystander,
        "bystander_id": bystander_id,
        "east_manager": east_manager,
        "west_manager": west_manager,
        "outsider": other.admin,
        "owner_id": owner_id,
    }


async def test_who_can_see_a_customer():
    async with client() as http:
        world = await setup_world(http)
        url = f"/v1/customers/{world['customer']['id']}"
        expected = {
            "owner": 200,
            "collaborator": 200,
            "east_manager": 200,
            "bystander": 404,
            "west_manager": 404,
            "outsider": 404,
        }
        for who, status in expected.items():
            response = await http.get(url, headers=world[who])
            assert response.status_code == status, who
            listed = (
                await http.get("/v1/customers", params={"limit": 100}, headers=world[who])
            ).json()["items"]
            assert (world["customer"]["id"] in {c["id"] for c in listed}) == (status == 200), who
        assert (await http.get(url, headers=world["company"].admin)).status_code == 200


async def test_who_can_edit_and_delete():
    async with client() as http:
        world = await setup_world(http)
        url = f"/v1/customers/{world['customer']['id']}"
        for who, status in {
            "bystander": 404,
            "west_manager": 404,
            "outsider": 404,
            "collaborator": 200,
        }.items():
            etag = (await http.get(url, headers=world["owner"])).headers["etag"]
            response = await http.patch(
                url, json={"industry": who}, headers=world[who] | {"If-Match": etag}
            )
            assert response.status_code == status, who
        for who, status in {
            "collaborator": 403,
            "bystander": 404,
            "west_manager": 404,
            "outsider": 404,
        }.items():
            response = await http.delete(url, headers=world[who])
            assert response.status_code == status, who
            if status == 403:
                assert response.json()["code"] == "forbidden"
        assert (await http.delete(url, headers=world["east_manager"])).status_code == 204


async def test_collaborators_cannot_release_or_transfer():
    async with client() as http:
        world = await setup_world(http)
        url = f"/v1/customers/{world['customer']['id']}"
        release = await http.post(
            f"{url}/release", json={"reason": "mine now"}, headers=world["collaborator"]
        )
        assert release.status_code == 403
        transfer = await http.post(
            f"{url}/transfer",
            json={"to_user_id": world["bystander_id"]},
            headers=world["collaborator"],
        )
        assert transfer.status_code == 403
        for who in ("bystander", "west_manager", "outsider"):
            response = await http.post(f"{url}/release", json={"reason": "x"}, headers=world[who])
            assert response.status_code == 404, who
        sibling = await http.post(
            f"{url}/transfer",
            json={"to_user_id": world["bystander_id"]},
            headers=world["west_manager"],
        )
        assert sibling.status_code == 404
        moved = await http.post(
            f"{url}/transfer",
            json={"to_user_id": world["bystander_id"], "reason": "cover"},
            headers=world["east_manager"],
        )
        assert moved.status_code == 200 and moved.json()["owner_id"] == world["bystander_id"]


async def test_manager_cannot_transfer_to_someone_outside_their_subtree():
    async with client() as http:
        world = await setup_world(http)
        company = world["company"]
        west_rep_id, _ = await company.user("rep", None)
        url = f"/v1/customers/{world['customer']['id']}"
        response = await http.post(
            f"{url}/transfer", json={"to_user_id": west_rep_id}, headers=world["east_manager"]
        )
        assert response.status_code == 404


async def test_pool_customers_are_visible_to_every_rep_and_claimable_by_them_not_outsiders():
    async with client() as http:
        world = await setup_world(http)
        pooled = await create_customer(http, world["company"].admin, "Pooled", in_pool=True)
        for who in ("owner", "bystander", "west_manager"):
            assert (
                await http.get(f"/v1/customers/{pooled['id']}", headers=world[who])
            ).status_code == 200
        assert (
            await http.get(f"/v1/customers/{pooled['id']}", headers=world["outsider"])
        ).status_code == 404
        outsider_claim = await http.post(
            f"/v1/pool/customers/{pooled['id']}/claim", headers=world["outsider"]
        )
        assert outsider_claim.status_code == 404
        assert (
            await http.post(f"/v1/pool/customers/{pooled['id']}/claim", headers=world["bystander"])
        ).status_code == 200


async def test_new_owner_sees_the_whole_history_after_claiming():
    async with client() as http:
        world = await setup_world(http)
        url = f"/v1/customers/{world['customer']['id']}"
        await http.post(f"{url}/release", json={"reason": "price too high"}, headers=world["owner"])
        assert (
            await http.post(
                f"/v1/pool/customers/{world['customer']['id']}/claim", headers=world["bystander"]
            )
        ).status_code == 200
        timeline = (await http.get(f"{url}/timeline", headers=world["bystander"])).json()["items"]
        assert any(item["summary"] == "price too high" for item in timeline)
