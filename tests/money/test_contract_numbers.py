"""Contract numbers: HT-<year>-<6 digits> per company and year (the year of signed_on, else
today in the company's time zone), numbers given by hand are skipped, and concurrent creates
never share a number."""

import asyncio
from datetime import UTC, datetime

from app.core import clock
from tests.customers.helpers import create_customer
from tests.helpers import client, signup


async def number_of(http, headers, customer_id: str, **fields) -> str:
    body = {"customer_id": customer_id, "title": "合同", "amount": "100", **fields}
    response = await http.post("/v1/contracts", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["number"]


async def test_numbers_run_per_company_and_year_of_signing():
    async with client() as http:
        company = await signup(http)
        customer = await create_customer(http, company.admin, "Acme")
        admin, cid = company.admin, customer["id"]
        assert await number_of(http, admin, cid, signed_on="2027-03-01") == "HT-2027-000001"
        assert await number_of(http, admin, cid, signed_on="2027-12-31") == "HT-2027-000002"
        assert await number_of(http, admin, cid, signed_on="2028-01-01") == "HT-2028-000001"
        assert await number_of(http, admin, cid, signed_on="2027-06-30") == "HT-2027-000003"
        other = await signup(http, name="Globex")
        theirs = await create_customer(http, other.admin, "Acme")
        assert await number_of(http, other.admin, theirs["id"], signed_on="2027-01-01") == (
            "HT-2027-000001"
        )


async def test_without_signed_on_the_year_is_today_in_company_time():
    async with client() as http:
        shanghai = await signup(http)
        utc = await signup(http, name="UTC Co", time_zone="UTC")
        customer = await create_customer(http, shanghai.admin, "Acme")
        other = await create_customer(http, utc.admin, "Acme")
        # 16:30 UTC on New Year's Eve is already 00:30 on 1 January in Shanghai.
        clock.freeze(datetime(2027, 12, 31, 16, 30, tzinfo=UTC))
        await shanghai.relogin_admin()
        await utc.relogin_admin()
        assert await number_of(http, shanghai.admin, customer["id"]) == "HT-2028-000001"
        assert await number_of(http, utc.admin, other["id"]) == "HT-2027-000001"


async def test_a_number_given_by_hand_is_kept_and_skipped_by_the_generator():
    async with client() as http:
        company = await signup(http)
        customer = await create_customer(http, company.admin, "Acme")
        admin, cid = company.admin, customer["id"]
        assert await number_of(http, admin, cid, number="HT-2027-000002") == "HT-2027-000002"
        assert await number_of(http, admin, cid, signed_on="2027-05-01") == "HT-2027-000001"
        # The next one would be 000002, which is taken: the generator moves on.
        assert await number_of(http, admin, cid, signed_on="2027-05-01") == "HT-2027-000003"
        taken = await http.post(
            "/v1/contracts",
            json={"customer_id": cid, "title": "x", "amount": "1", "number": "HT-2027-000003"},
            headers=admin,
        )
        assert taken.status_code == 409 and taken.json()["code"] == "contract_number_taken"
        assert taken.json()["errors"][0]["loc"] == ["body", "number"]


async def test_twenty_concurrent_creates_get_twenty_distinct_numbers():
    async with client() as http:
        company = await signup(http)
        customer = await create_customer(http, company.admin, "Acme")
        responses = await asyncio.gather(
            *(
                http.post(
                    "/v1/contracts",
                    json={
                        "customer_id": customer["id"],
                        "title": f"合同 {i}",
                        "amount": "100",
                        "signed_on": "2027-04-01",
                    },
                    headers=company.admin,
                )
                for i in range(20)
            )
        )
        assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses]
        numbers = sorted(r.json()["number"] for r in responses)
        assert numbers == [f"HT-2027-{n:06d}" for n in range(1, 21)]
