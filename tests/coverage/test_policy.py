"""The coverage policy: defaults until an admin replaces it (all four tiers, If-Match), read by
everyone, per company."""

from tests.helpers import client, signup

URL = "/v1/coverage-policy"
DEFAULTS = {
    "A": {"visits": 4, "per": "month", "minutes_per_visit": 180},
    "B": {"visits": 2, "per": "month", "minutes_per_visit": 60},
    "C": {"visits": 1, "per": "quarter", "minutes_per_visit": 20},
    "untiered": {"visits": 0, "per": "month", "minutes_per_visit": 0},
}
NEW = {
    "A": {"visits": 1, "per": "week", "minutes_per_visit": 90},
    "B": {"visits": 3, "per": "quarter", "minutes_per_visit": 45},
    "C": {"visits": 2, "per": "year", "minutes_per_visit": 30},
    "untiered": {"visits": 1, "per": "year", "minutes_per_visit": 15},
}


async def test_defaults_then_an_admin_replaces_it_under_if_match():
    async with client() as http:
        company = await signup(http)
        other = await signup(http, "Other")
        _, rep = await company.user("rep")
        got = await http.get(URL, headers=rep)
        assert got.status_code == 200 and got.headers["etag"] == '"1"'
        assert got.json() == {**DEFAULTS, "version": 1}

        assert (await http.put(URL, json=NEW, headers=rep | {"If-Match": '"1"'})).status_code == 403
        missing = await http.put(URL, json=NEW, headers=company.admin)
        assert missing.status_code == 428
        done = await http.put(URL, json=NEW, headers=company.admin | {"If-Match": '"1"'})
        assert done.status_code == 200, done.text
        assert done.json() == {**NEW, "version": 2} and done.headers["etag"] == '"2"'
        stale = await http.put(URL, json=DEFAULTS, headers=company.admin | {"If-Match": '"1"'})
        assert stale.status_code == 412
        assert (await http.get(URL, headers=rep)).json() == {**NEW, "version": 2}
        again = await http.put(URL, json=DEFAULTS, headers=company.admin | {"If-Match": '"2"'})
        assert again.json() == {**DEFAULTS, "version": 3}
        # Another company keeps its own (the defaults).
        assert (await http.get(URL, headers=other.admin)).json() == {**DEFAULTS, "version": 1}


async def test_the_policy_is_validated_whole():
    async with client() as http:
        company = await signup(http)
        headers = company.admin | {"If-Match": '"1"'}
        bad = [
            {k: v for k, v in NEW.items() if k != "C"},  # a tier missing
            {**NEW, "D": NEW["A"]},  # no such tier
            {**NEW, "A": {**NEW["A"], "per": "day"}},
            {**NEW, "A": {**NEW["A"], "visits": -1}},
            {**NEW, "A": {**NEW["A"], "minutes_per_visit": 1441}},
            {**NEW, "A": {**NEW["A"], "visits": "4"}},
            {**NEW, "A": {**NEW["A"], "extra": 1}},
        ]
        for body in bad:
            response = await http.put(URL, json=body, headers=headers)
            assert response.status_code == 422, body
            assert response.json()["code"] == "validation_failed"
        assert (await http.get(URL, headers=company.admin)).json()["version"] == 1
