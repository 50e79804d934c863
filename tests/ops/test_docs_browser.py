"""The API docs in a real browser with no internet: headless Chromium (Debian's, driven by
Playwright) opens /docs and /redoc of a real server while every request to another host is
aborted and recorded. Every tag and an operation of each render, "Authorize" runs the OAuth2
password flow, "Try it out" answers 200, and nothing was asked of another host."""

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Page, Request, Route, async_playwright, expect

from app.main import app
from tests.helpers import PASSWORD, client, signup

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("OUTFIELD_CHROMIUM", "/usr/bin/chromium")
SCREENSHOT = ROOT / "var" / "screenshots" / "docs.png"
CJK_SUMMARY = "Check for duplicates (查重)"  # an operation summary with Chinese in it
REDOC_CREDIT_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"

pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason=f"no Chromium at {CHROMIUM}: `bash scripts/browser.sh` (run by `make test`) installs "
    "Debian's `chromium` with apt-get, which needs Debian/Ubuntu and root or sudo",
)


def _tags() -> list[str]:
    """The tags that have operations, in the document's order."""
    schema = app.openapi()
    used = {tag for path in schema["paths"].values() for op in path.values() for tag in op["tags"]}
    declared = [tag["name"] for tag in schema.get("tags", [])]
    return [tag for tag in declared if tag in used] + sorted(used - set(declared))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def server() -> Iterator[str]:
    """The app under uvicorn in its own process, on the test database and Redis (conftest
    put their URLs in the environment)."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1"]
        + ["--port", str(port), "--no-access-log", "--log-level", "warning"],
        cwd=ROOT,
        env={**os.environ, "OUTFIELD_LOG_LEVEL": "WARNING"},
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def _wait_until_up(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        for _ in range(200):
            try:
                if (await http.get("/healthz")).status_code == 200:
                    # Build the schema once (the server caches it) before the pages ask.
                    (await http.get("/openapi.json", timeout=30)).raise_for_status()
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{base} did not come up within 20 s")


async def _swagger_ui(page: Page, base: str, tags: list[str], email: str) -> None:
    await page.goto(f"{base}/docs")
    # The first load parses ~200 kB of schema on a shared machine: give it time.
    await expect(page.locator(".info .title")).to_contain_text(app.title, timeout=30_000)
    for tag in tags:
        section = page.locator(".opblock-tag-section").filter(
            has=page.locator(f'h3.opblock-tag[data-tag="{tag}"]')
        )
        await expect(section.locator(".opblock").first).to_be_visible()
    await expect(page.get_by_text(CJK_SUMMARY, exact=True)).to_be_visible()
    assert await page.evaluate("document.fonts.size") == 0  # system fonts only (CJK included)

    # Authorize: the OAuth2 password flow against POST /v1/auth/token.
    await page.locator(".auth-wrapper .btn.authorize").click()
    dialog = page.locator(".modal-ux")
    await dialog.locator("#oauth_username").fill(email)
    await dialog.locator("#oauth_password").fill(PASSWORD)
    async with page.expect_response(lambda r: r.url.endswith("/v1/auth/token")) as signed_in:
        await dialog.locator(".btn.modal-btn.authorize").click()
    assert (await signed_in.value).status == 200
    await expect(dialog.locator(".btn.modal-btn", has_text="Logout")).to_be_visible()
    await dialog.locator(".btn-done", has_text="Close").click()

    # Try it out: GET /v1/me with the token Swagger UI got.
    operation = page.locator("#operations-org-getMe")
    await operation.locator(".opblock-summary").click()
    await operation.get_by_role("button", name="Try it out").click()
    async with page.expect_response(lambda r: urlsplit(r.url).path == "/v1/me") as answered:
        await operation.get_by_role("button", name="Execute").click()
    response = await answered.value
    assert response.status == 200
    assert response.request.headers["authorization"].startswith("Bearer ")
    assert (await response.json())["user"]["email"] == email
    await expect(
        operation.locator(".live-responses-table tbody .response-col_status")
    ).to_contain_text("200")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOT, full_page=True)


async def _redoc(page: Page, base: str, tags: list[str]) -> None:
    await page.goto(f"{base}/redoc")
    await expect(page.locator("h1").first).to_contain_text(app.title, timeout=30_000)
    for tag in tags:
        await expect(page.locator(f'[data-section-id="tag/{tag}"]')).to_have_count(1)
        operations = page.locator(f'[data-section-id^="tag/{tag}/operation/"]')
        await expect(operations.first).to_be_attached()
    await expect(page.locator("h2", has_text=CJK_SUMMARY)).to_have_count(1)
    assert await page.evaluate("document.fonts.size") == 0


async def test_docs_render_authorize_and_try_it_out_with_no_other_host(
    server: str,
) -> None:
    base = server
    origin = urlsplit(base).netloc
    tags = _tags()
    async with client() as http:
        company = await signup(http)
    await _wait_until_up(base)

    requested: list[str] = []  # every URL the pages asked for
    elsewhere: list[str] = []  # those that tried to leave for another host (aborted here)
    stopped: list[str] = []  # those the pages' Content-Security-Policy stopped in the browser
    errors: list[str] = []  # uncaught script errors

    async def only_this_server(route: Route) -> None:
        if urlsplit(route.request.url).netloc == origin:
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort("blockedbyclient")

    def failed(request: Request) -> None:
        if "csp" in (request.failure or "").lower():  # Chromium's reason: "csp"
            stopped.append(request.url)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            context = await browser.new_context(
                viewport={"width": 1280, "height": 900}, service_workers="block"
            )
            await context.route("**/*", only_this_server)
            context.on("request", lambda request: requested.append(request.url))
            context.on("requestfailed", failed)
            page = await context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("websocket", lambda ws: elsewhere.append(ws.url))
            await _swagger_ui(page, base, tags, company.admin_email)
            await _redoc(page, base, tags)
        finally:
            await browser.close()

    sent = [url for url in requested if url not in stopped]
    print("\nhosts requested:", sorted({urlsplit(url).netloc for url in sent}))
    print("stopped inside the browser by the Content-Security-Policy:", stopped)
    assert elsewhere == []
    assert {urlsplit(url).netloc for url in sent} == {origin}
    # ReDoc's sidebar credit embeds its logo from its CDN; the policy keeps it in the browser.
    assert set(stopped) <= {REDOC_CREDIT_LOGO}
    assert errors == []

    async with httpx.AsyncClient(base_url=base) as http:
        icon = await http.get("/favicon.ico")
        page_html = await http.get("/docs")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/png"
    assert page_html.headers["content-type"] == "text/html; charset=utf-8"
    assert 'href="/favicon.ico"' in page_html.text
