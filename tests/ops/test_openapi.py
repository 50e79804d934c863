from app.main import app
from scripts.export_openapi import TARGET, render
from tests.helpers import client


def test_committed_openapi_matches_the_served_schema():
    assert TARGET.read_text(encoding="utf-8") == render(), (
        "run `make openapi` and commit openapi/openapi.json"
    )


def test_every_operation_has_summary_tags_and_documented_errors():
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), (method, path)
            assert operation.get("tags"), (method, path)
            if path.startswith("/v1/"):
                errors = [code for code in operation["responses"] if code.startswith(("4", "5"))]
                assert errors, (method, path)


async def test_served_schema_is_the_one_at_openapi_json():
    async with client() as http:
        response = await http.get("/openapi.json")
        assert response.json() == app.openapi()
