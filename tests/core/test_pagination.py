import pytest

from tests.helpers import client, signup


async def test_paging_while_rows_are_inserted_has_no_duplicates_and_no_gaps():
    async with client() as http:
        company = await signup(http)
        created = [await company.department(f"Team {i}") for i in range(12)]
        seen: list[str] = []
        cursor = None
        page_number = 0
        while True:
            params = {"limit": 5} | ({"cursor": cursor} if cursor else {})
            response = await http.get("/v1/departments", params=params, headers=company.admin)
            assert response.status_code == 200
            body = response.json()
            seen.extend(item["id"] for item in body["items"])
            # New rows arrive mid-paging: they sort before page 1 and must not disturb later pages.
            await company.department(f"Late {page_number}")
            page_number += 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen))
        expected = set(created) | {company.root_department_id}
        assert expected <= set(seen)


@pytest.mark.parametrize("limit", [0, 101, -1])
async def test_limit_out_of_range_is_422(limit):
    async with client() as http:
        company = await signup(http)
        response = await http.get("/v1/departments", params={"limit": limit}, headers=company.admin)
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["query", "limit"]


async def test_garbage_cursor_is_422_invalid_cursor():
    async with client() as http:
        company = await signup(http)
        response = await http.get(
            "/v1/departments", params={"cursor": "nonsense!"}, headers=company.admin
        )
        assert response.status_code == 422
        assert response.json()["code"] == "invalid_cursor"


async def test_default_page_size_is_20():
    async with client() as http:
        company = await signup(http)
        for i in range(22):
            await company.department(f"D{i}")
        body = (await http.get("/v1/departments", headers=company.admin)).json()
        assert len(body["items"]) == 20 and body["next_cursor"]
