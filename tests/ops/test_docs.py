"""The docs pages and every asset they load come from the app (no CDN, no web font); the
browser itself is exercised in test_docs_browser.py."""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from app.main import app
from tests.helpers import client


class _Links(HTMLParser):
    """The src/href of every element of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in {"src", "href"} and value]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_load_only_this_apps_assets(page):
    async with client() as http:
        response = await http.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        policy = response.headers["content-security-policy"]
        assert "script-src 'self' 'unsafe-inline'" in policy and "img-src 'self' data:" in policy
        links = _Links()
        links.feed(response.text)
        assert links.urls, response.text
        for url in links.urls:
            assert not urlsplit(url).netloc, url  # same origin: no CDN, no Google Fonts
            asset = await http.get(url)
            assert asset.status_code == 200, url
        assert "/openapi.json" in response.text


async def test_favicon_and_bundles_are_served():
    async with client() as http:
        icon = await http.get("/favicon.ico")
        assert icon.status_code == 200 and icon.headers["content-type"] == "image/png"
        assert icon.content.startswith(b"\x89PNG")
        for name, media_type in [
            ("swagger-ui-bundle.js", "text/javascript"),
            ("swagger-ui.css", "text/css"),
            ("redoc.standalone.js", "text/javascript"),
        ]:
            asset = await http.get(f"/docs-assets/{name}")
            assert asset.status_code == 200, name
            assert asset.headers["content-type"].startswith(media_type), name
        redirect = await http.get("/docs/oauth2-redirect")
        assert redirect.status_code == 200


def test_authorize_uses_the_password_flow_of_the_token_endpoint():
    schemes = app.openapi()["components"]["securitySchemes"]
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "/v1/auth/token"
