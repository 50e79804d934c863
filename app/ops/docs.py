"""Self-hosted API docs: Swagger UI at `/docs`, ReDoc at `/redoc`, the favicon at `/favicon.ico`.

Every asset comes from the app itself, so the docs open with no internet and where the usual
CDNs (cdn.jsdelivr.net, fonts.googleapis.com) are slow or blocked: the Swagger UI and ReDoc
bundles are the files the pinned `fastapi-offline` package ships (served under
`/docs-assets/`), the pages are FastAPI's own `get_swagger_ui_html` / `get_redoc_html`, and
ReDoc runs without Google Fonts (system fonts render the Chinese text; no web font is used).
A Content-Security-Policy on both pages keeps every script, style, image, font and worker on
this origin, so nothing a bundle might embed (ReDoc's attribution logo on cdn.redoc.ly, Swagger
UI's validator badge) is fetched from elsewhere. "Authorize" in Swagger UI runs the OAuth2
password flow of the `OAuth2PasswordBearer` scheme against `POST /v1/auth/token`.
"""

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

# The Swagger UI and ReDoc bundles shipped by fastapi-offline (pinned in requirements.lock).
ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS_URL = "/docs-assets"
FAVICON = Path(__file__).resolve().parent / "static" / "favicon.png"
FAVICON_URL = "/favicon.ico"

# Scripts, styles, images, fonts and workers only from this origin (the inline parts are
# FastAPI's Swagger UI bootstrap script and the styles both bundles inject). Requests made by
# "Try it out" are left alone (`connect-src *`): a server listed in the schema may be another.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src *",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'self'",
    ]
)


def _secured(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page


def install_docs(app: FastAPI) -> None:
    """Serve the docs pages and their assets; create the app with `docs_url=None, redoc_url=None`
    (FastAPI's own pages load their assets from a CDN)."""
    openapi_url = app.openapi_url
    if openapi_url is None:
        return
    redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    @app.get(FAVICON_URL, include_in_schema=False)
    async def favicon() -> FileResponse:
        return FileResponse(FAVICON, media_type="image/png")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _secured(
            get_swagger_ui_html(
                openapi_url=f"{root}{openapi_url}",
                title=f"{app.title} — Swagger UI",
                swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
                swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
                swagger_favicon_url=f"{root}{FAVICON_URL}",
                oauth2_redirect_url=f"{root}{redirect_url}",
                # No validator badge (it would call validator.swagger.io).
                swagger_ui_parameters={"validatorUrl": None, **(app.swagger_ui_parameters or {})},
            )
        )

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return _secured(get_swagger_ui_oauth2_redirect_html())

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _secured(
            get_redoc_html(
                openapi_url=f"{root}{openapi_url}",
                title=f"{app.title} — ReDoc",
                redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
                redoc_favicon_url=f"{root}{FAVICON_URL}",
                with_google_fonts=False,
            )
        )
