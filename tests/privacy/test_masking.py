"""Phone privacy: masking for each role in get, list, nearby, pool and contacts; the reveal and
its audit; executives hidden from below."""

import pytest
from sqlalchemy import select

from app.db import session_factory
from app.privacy.masking import mask_phone
from app.privacy.models import PhoneReveal
from tests.customers.helpers import BEIJING, create_customer
from tests.helpers import client, signup

OWNED = "13812345678"
POOLED = "+86 139-8765-4321"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("021-62345678", "021****5678"),
        ("62345678", "****5678"),
        ("1234", "****"),
        ("ext", "****"),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


async def mask_on(http, admin, on: bool = True) -> None:
    etag = (await http.get("/v1/company/settings", headers=admin)).headers["etag"]
    response = await http.patch(
        "/v1/company/settings", json={"mask_phones": on}, headers=admin | {"If-Match": etag}
    )
    assert response.status_code == 200, response.text
    assert response.json()["mask_phones"] is on


async def world(http):
    company = await signup(http)
    east = await company.department("East")
    east_team = await company.department("East Team", east)
    west = await company.department("West")
    owner_id, owner = await company.user("rep", east_team)
    collaborator_id, collaborator = await company.user("rep", west)
    _, other_rep = await company.user("rep", east_team)
    _, manager = await company.user("manager", east)
    _, sibling = await company.user("manager", west)
    owned = await create_customer(http, owner, "Owned Co", phone=OWNED, location=BEIJING)
    pooled = await create_customer(
        http, owner, "Pool Co", phone=POOLED, location=BEIJING, in_pool=True
    )
    added = await http.post(
        f"/v1/customers/{owned['id']}/collaborators",
        json={"user_id": collaborator_id, "role": "technical"},
        headers=owner,
    )
    assert added.status_code == 200, added.text
    contact = await http.post(
        f"/v1/customers/{owned['id']}/contacts",
        json={"name": "Wang", "phones": ["13700001111", "010-88889999"]},
        headers=owner,
    )
    assert contact.status_code == 201, contact.text
    return {
        "company": company,
        "owned": owned,
        "pooled": pooled,
        "contact": contact.json(),
        "owner": owner,
        "owner_id": owner_id,
        "collaborator": collaborator,
        "other_rep": other_rep,
        "manager": manager,
        "sibling": sibling,
        "admin": company.admin,
    }


async def seen(http, headers, customer_id):
    """The phone in get, list and nearby (None where the customer is not visible)."""
    got = await http.get(f"/v1/customers/{customer_id}", headers=headers)
    listed = (await http.get("/v1/customers", params={"limit": 100}, headers=headers)).json()
    near = (
        await http.get(
            "/v1/customers/nearby", params={"lat": 39.9087, "lng": 116.3975}, headers=headers
        )
    ).json()
    phones = {
        "get": got.json()["phone"] if got.status_code == 200 else None,
        "list": next((c["phone"] for c in listed["items"] if c["id"] == customer_id), None),
        "nearby": next((c["phone"] for c in near["items"] if c["id"] == customer_id), None),
    }
    return phones


async def test_masking_by_role_in_get_list_and_nearby():
    async with client() as http:
        w = await world(http)
        owned, pooled = w["owned"]["id"], w["pooled"]["id"]
        # Off (the default): every visible number in full.
        assert await seen(http, w["other_rep"], pooled) == dict.fromkeys(
            ("get", "list", "nearby"), POOLED
        )
        await mask_on(http, w["admin"])
        full, masked = dict.fromkeys(("get", "list", "nearby"), OWNED), None
        for who in ("owner", "collaborator", "manager", "admin"):
            assert await seen(http, w[who], owned) == full, who
        # The other rep and the sibling manager do not see the customer at all.
        for who in ("other_rep", "sibling"):
            assert await seen(http, w[who], owned) == dict.fromkeys(
                ("get", "list", "nearby"), masked
            )
        # The pool: masked for everyone but admins, until claimed.
        for who in ("owner", "other_rep", "manager", "sibling"):
            assert await seen(http, w[who], pooled) == dict.fromkeys(
                ("get", "list", "nearby"), "139****4321"
            ), who
        pool = (await http.get("/v1/pool/customers", headers=w["other_rep"])).json()["items"]
        assert [c["phone"] for c in pool if c["id"] == pooled] == ["139****4321"]
        assert (await seen(http, w["admin"], pooled))["get"] == POOLED
        claimed = await http.post(f"/v1/pool/customers/{pooled}/claim", headers=w["other_rep"])
        assert claimed.status_code == 200, claimed.text
        assert claimed.json()["phone"] == POOLED
        assert (await seen(http, w["other_rep"], pooled))["list"] == POOLED


async def test_contacts_are_masked_like_their_customer():
    async with client() as http:
        w = await world(http)
        await mask_on(http, w["admin"])
        url = f"/v1/customers/{w['owned']['id']}/contacts"
        owner_view = (await http.get(url, headers=w["owner"])).json()["items"]
        assert owner_view[0]["phones"] == ["13700001111", "010-88889999"]
        # A pool customer's contacts are masked for a rep.
        pool_contact = await http.post(
            f"/v1/customers/{w['pooled']['id']}/contacts",
            json={"name": "Li", "phones": ["13600002222"]},
            headers=w["manager"],
        )
        assert pool_contact.status_code == 201, pool_contact.text
        assert pool_contact.json()["phones"] == ["136****2222"]
        rep_view = (
            await http.get(f"/v1/customers/{w['pooled']['id']}/contacts", headers=w["other_rep"])
        ).json()["items"]
        assert rep_view[0]["phones"] == ["136****2222"]


async def test_reveal_is_allowed_by_the_rule_and_audited():
    async with client() as http:
        w = await world(http)
        await mask_on(http, w["admin"])
        owned, pooled = w["owned"]["id"], w["pooled"]["id"]
        reveal = f"/v1/customers/{pooled}/phone-reveal"
        refused = await http.post(reveal, headers=w["other_rep"])
        assert refused.status_code == 403
        assert refused.json()["code"] == "phone_reveal_not_allowed"
        by_manager = await http.post(reveal, headers=w["manager"])
        assert by_manager.status_code == 200, by_manager.text
        assert by_manager.json()["phones"] == [POOLED]
        # A contact's numbers, by the collaborator.
        contact = await http.post(
            f"/v1/customers/{owned}/phone-reveal",
            json={"contact_id": w["contact"]["id"]},
            headers=w["collaborator"],
        )
        assert contact.status_code == 200, contact.text
        assert contact.json()["phones"] == ["13700001111", "010-88889999"]
        # Invisible: 404 (the sibling manager; another company).
        assert (
            await http.post(f"/v1/customers/{owned}/phone-reveal", headers=w["sibling"])
        ).status_code == 404
        other = await signup(http, "Other Co")
        assert (
            await http.post(f"/v1/customers/{owned}/phone-reveal", headers=other.admin)
        ).status_code == 404
        async with session_factory()() as session:
            rows = (
                await session.execute(
                    select(
                        PhoneReveal.customer_id, PhoneReveal.contact_id, PhoneReveal.numbers_masked
                    ).order_by(PhoneReveal.revealed_at)
                )
            ).all()
        assert [(str(r[0]), r[1] and str(r[1]), r[2]) for r in rows] == [
            (pooled, None, ["139****4321"]),
            (owned, w["contact"]["id"], ["137****1111", "010****9999"]),
        ]


async def test_an_executive_is_hidden_from_below_only():
    async with client() as http:
        company = await signup(http)
        east = await company.department("East")
        team = await company.department("East Team", east)
        west = await company.department("West")
        boss_id, boss = await company.user("manager", east)
        _, below = await company.user("rep", team)
        _, beside = await company.user("manager", west)
        etag = (await http.get(f"/v1/users/{boss_id}", headers=company.admin)).headers["etag"]
        made = await http.patch(
            f"/v1/users/{boss_id}",
            json={"is_executive": True, "phone": "13911112222"},
            headers=company.admin | {"If-Match": etag},
        )
        assert made.status_code == 200, made.text
        assert made.json()["is_executive"] is True
        email = made.json()["email"]
        # The rep below: listed, but without phone and e-mail (their list is their department;
        # the manager of East is not in East Team — so ask by the manager's own view too).
        mine = (await http.get(f"/v1/users/{boss_id}", headers=boss)).json()
        assert (mine["email"], mine["phone"]) == (email, "13911112222")
        admin_view = (await http.get(f"/v1/users/{boss_id}", headers=company.admin)).json()
        assert (admin_view["email"], admin_view["phone"]) == (email, "13911112222")
        _, peer_below = await company.user("rep", east)
        hidden = (await http.get(f"/v1/users/{boss_id}", headers=peer_below)).json()
        assert (hidden["email"], hidden["phone"]) == (None, None)
        listed = (await http.get("/v1/users", headers=peer_below)).json()["items"]
        assert [(u["email"], u["phone"]) for u in listed if u["id"] == boss_id] == [(None, None)]
        # Not visible to the rep of the sub-team nor the West manager at all (user visibility).
        assert (await http.get(f"/v1/users/{boss_id}", headers=below)).status_code == 404
        assert (await http.get(f"/v1/users/{boss_id}", headers=beside)).status_code == 404
