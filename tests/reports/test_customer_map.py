"""The customer map: visible customers per ST_HexagonGrid cell of a box."""

import math
import random

from sqlalchemy import text

from app.db import session_factory
from app.reports import customer_map as maps
from tests.customers.helpers import create_customer, set_rules
from tests.helpers import client, signup

URL = "/v1/reports/customer-map"
BOX = "121.40,31.15,121.60,31.30"


async def test_cells_count_known_points_as_st_hexagongrid_would_within_visibility():
    async with client() as http:
        company = await signup(http)
        team = await company.department("Team")
        rep_id, rep = await company.user("rep", team, name="Rep")
        _, peer = await company.user("rep", team, name="Peer")
        _, manager = await company.user("manager", team)
        points = [(31.20, 121.45), (31.2001, 121.4501), (31.2002, 121.4502), (31.25, 121.55)]
        for n, (lat, lng) in enumerate(points):
            tier = "A" if n < 2 else None
            await create_customer(
                http, rep, f"Mine {n}", location={"lat": lat, "lng": lng}, tier=tier
            )
        await create_customer(http, peer, "Peer's", location={"lat": 31.2, "lng": 121.45})
        await create_customer(http, rep, "Outside", location={"lat": 31.5, "lng": 121.45})
        await create_customer(http, rep, "Nowhere")
        response = await http.get(
            URL, params={"bbox": BOX, "cell_m": 1000, "group": "tier"}, headers=rep
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == 4
        assert [c["count"] for c in body["cells"]] == [3, 1]
        crowded = body["cells"][0]
        assert crowded["groups"] == [
            {"key": "A", "name": None, "count": 2},
            {"key": "untiered", "name": None, "count": 1},
        ]
        ring = crowded["polygon"]["coordinates"][0]
        assert crowded["polygon"]["type"] == "Polygon" and len(ring) == 7 and ring[0] == ring[-1]
        # The same cells PostGIS's grid puts the points in.
        size = 1000 / math.cos(math.radians((31.15 + 31.30) / 2))
        async with session_factory()() as session:
            cells = (
                await session.execute(
                    text(
                        "SELECT h.i, h.j, ST_X(ST_Centroid(h.geom)), ST_Y(ST_Centroid(h.geom)) "
                        "FROM ST_HexagonGrid(:size, ST_Transform(ST_MakeEnvelope("
                        "121.40, 31.15, 121.60, 31.30, 4326), 3857)) h "
                        "WHERE ST_Intersects(h.geom, ST_Transform(ST_SetSRID("
                        "ST_MakePoint(:lng, :lat), 4326), 3857))"
                    ),
                    [{"size": size, "lat": lat, "lng": lng} for lat, lng in points[:1]],
                )
            ).one()
        assert crowded["id"] == f"{cells[0]},{cells[1]}"
        grid = maps.Grid(size)
        x, y = grid.centre(cells[0], cells[1])
        assert abs(x - cells[2]) < 1e-6 and abs(y - cells[3]) < 1e-6
        # The peer's map counts only the peer's customer; the manager sees both.
        theirs = (await http.get(URL, params={"bbox": BOX}, headers=peer)).json()
        assert theirs["total"] == 1 and theirs["cells"][0]["groups"] == []
        managed = await http.get(URL, params={"bbox": BOX, "group": "owner"}, headers=manager)
        assert managed.json()["total"] == 5
        owners = managed.json()["cells"][0]["groups"]
        assert owners[0] == {"key": rep_id, "name": "Rep", "count": 3}
        assert owners[1]["name"] == "Peer" and owners[1]["count"] == 1
        # Another company sees nothing of it.
        stranger = await signup(http, "Other Co")
        assert (await http.get(URL, params={"bbox": BOX}, headers=stranger.admin)).json()[
            "total"
        ] == 0
        csv = await http.get(
            URL, params={"bbox": BOX, "group": "tier", "format": "csv"}, headers=rep
        )
        assert csv.status_code == 200 and csv.content.startswith("\ufeff".encode())
        lines = csv.content.decode("utf-8-sig").splitlines()
        assert lines[0] == "cell,center_lat,center_lng,count,group_key,group_name,group_count"
        assert len(lines) == 4 and lines[1].endswith(",3,A,,2")


async def test_the_box_is_required_well_formed_and_capped():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        assert (await http.get(URL, headers=rep)).status_code == 422
        for bad in ("1,2,3", "121.6,31.1,121.4,31.3", "0,-89,1,0", "a,b,c,d"):
            response = await http.get(URL, params={"bbox": bad}, headers=rep)
            assert response.status_code == 422, bad
            assert response.json()["errors"][0]["loc"] == ["query", "bbox"]
        # 100 m cells: at most 10,000 cells ≈ 259 km²; this box is ~ 19 km × 17 km = 318 km².
        too_big = await http.get(URL, params={"bbox": BOX, "cell_m": 100}, headers=rep)
        assert too_big.status_code == 422 and too_big.json()["code"] == "bbox_too_large"
        assert too_big.json()["max_km2"] == maps.max_km2(100) == 259
        whole = await http.get(URL, params={"bbox": "70,10,140,50", "cell_m": 50000}, headers=rep)
        assert whole.json()["code"] == "bbox_too_large" and whole.json()["max_km2"] == 250_000
        tiny = await http.get(URL, params={"bbox": BOX, "cell_m": 99}, headers=rep)
        assert tiny.status_code == 422


async def test_scattered_points_fall_in_the_hexagons_postgis_draws_around_them():
    """60 points at 500 m cells, each counted in the one ST_HexagonGrid polygon holding it."""
    async with client() as http:
        company = await signup(http)
        await set_rules(http, company.admin, holding_cap=100)
        spread = random.Random(7)
        points = [
            (round(spread.uniform(31.15, 31.30), 6), round(spread.uniform(121.40, 121.60), 6))
            for _ in range(60)
        ]
        for n, (lat, lng) in enumerate(points):
            await create_customer(
                http, company.admin, f"Spot {n}", location={"lat": lat, "lng": lng}
            )
        response = await http.get(URL, params={"bbox": BOX, "cell_m": 500}, headers=company.admin)
        body = response.json()
        size = 500 / math.cos(math.radians((31.15 + 31.30) / 2))
        async with session_factory()() as session:
            rows = (
                await session.execute(
                    text(
                        "SELECT h.i, h.j, count(*) FROM unnest(CAST(:lats AS float8[]), "
                        "CAST(:lngs AS float8[])) AS p(lat, lng) JOIN ST_HexagonGrid(:size, "
                        "ST_Transform(ST_MakeEnvelope(121.40, 31.15, 121.60, 31.30, 4326), 3857))"
                        " h ON ST_Intersects(h.geom, ST_Transform(ST_SetSRID(ST_MakePoint("
                        "p.lng, p.lat), 4326), 3857)) GROUP BY h.i, h.j"
                    ),
                    {
                        "lats": [lat for lat, _ in points],
                        "lngs": [lng for _, lng in points],
                        "size": size,
                    },
                )
            ).all()
        expected = {f"{i},{j}": count for i, j, count in rows}
        assert sum(expected.values()) == 60  # no point on an edge (in two cells)
        assert body["total"] == 60
        assert {cell["id"]: cell["count"] for cell in body["cells"]} == expected
        assert len(expected) > 40  # mostly one point a cell: each one's cell is checked
