"""405 for every known path: an unsupported method answers problem+json with `Allow` listing all
the methods the path has (across its routes), decided from the app's own routes.

Starlette alone answers 405 with the methods of the first route of a path only, and a method
that a literal path lacks but a templated sibling has (PATCH /v1/customers/nearby next to
PATCH /v1/customers/{customer_id}) reaches the templated route and fails as a 422. The
middleware decides before routing, outside the idempotency middleware (a 405 must not be stored
and replayed without its `Allow`): a literal path is one dict lookup (the hot lists and the
check-in POST are literal paths), a templated one a scan of the templated routes' regexes, the
most literal first. The 405 handler covers any 405 Starlette still raises.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.errors import problem_response


class _Index:
    def __init__(self, routes: list[BaseRoute]) -> None:
        self.size = len(routes)
        by_path: dict[str, set[str]] = {}
        templates: dict[str, tuple[Any, int]] = {}
        # FastAPI keeps included routers nested; their effective routes carry the full paths.
        for route in (context.route for context in iter_route_contexts(routes)):
            methods = getattr(route, "methods", None)
            if not isinstance(route, Route) or not methods:
                continue
            by_path.setdefault(route.path, set()).update(methods)
            if route.param_convertors:
                templates[route.path] = (route.path_regex, len(route.param_convertors))
        self.literal = {
            path: frozenset(methods) for path, methods in by_path.items() if path not in templates
        }
        self.templated = [
            (regex, params, frozenset(by_path[path]))
            for path, (regex, params) in sorted(templates.items(), key=lambda item: item[1][1])
        ]

    def allowed(self, path: str) -> frozenset[str] | None:
        """The methods of the path's route template (a literal one first), None when unknown."""
        if path in self.literal:
            return self.literal[path]
        for regex, _params, methods in self.templated:
            if regex.match(path):
                return methods
        return None


_index: _Index | None = None


def _routes_index(app: Any) -> _Index:
    global _index
    routes = app.router.routes
    if _index is None or _index.size != len(routes):
        _index = _Index(routes)
    return _index


def allowed_methods(app: Any, path: str) -> frozenset[str] | None:
    """All the methods the app has for a request path (None for an unknown path)."""
    return _routes_index(app).allowed(path)


def method_not_allowed(path: str, allowed: frozenset[str]) -> JSONResponse:
    """The 405 problem with the full `Allow` header."""
    return problem_response(
        405,
        "method_not_allowed",
        "This path does not support this method; see Allow.",
        instance=path,
        headers={"Allow": ", ".join(sorted(allowed))},
    )


class MethodNotAllowedMiddleware:
    """405 before routing (and before an Idempotency-Key is claimed) for a known path asked
    with a method it does not have."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "app" in scope:
            path: str = scope["path"]
            allowed = _routes_index(scope["app"]).allowed(path)
            if allowed is not None and scope["method"] not in allowed:
                return await method_not_allowed(path, allowed)(scope, receive, send)
        await self.app(scope, receive, send)


def install_method_not_allowed(app: FastAPI) -> None:
    """The middleware (literal paths) and the 405 handler (Starlette's, for templated ones)."""
    app.add_middleware(MethodNotAllowedMiddleware)

    async def _405(request: Request, exc: Exception) -> JSONResponse:
        path = request.url.path
        allowed = allowed_methods(request.app, path)
        if allowed is None:  # not one of our paths (cannot happen: Starlette matched a route)
            header = (getattr(exc, "headers", None) or {}).get("Allow", "")
            allowed = frozenset(m.strip() for m in header.split(",") if m.strip())
        return method_not_allowed(path, allowed)

    app.add_exception_handler(405, _405)
