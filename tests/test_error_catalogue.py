"""The problem-code catalogue: every code has one named constructor in its package's errors.py.

Rules checked here (no database needed):
- each domain package's `errors.py` holds one public constructor per code, named after it;
- no `ProblemError(` is raised inline outside those modules and `app/core`;
- no hand-built field error (`{"loc": ...}`) outside `app/core/errors.py` (use `field_error`);
- a code is defined in one place only (across packages and against `app/core`).
"""

import ast
import importlib
import inspect
from collections import defaultdict
from pathlib import Path

import pytest

from app.core.errors import ProblemError, field_error, field_errors, field_issue

APP = Path(__file__).resolve().parents[1] / "app"

# Every domain package with problem codes of its own. None is left uncatalogued.
PACKAGES = (
    "approvals",
    "attendance",
    "auth",
    "coverage",
    "customers",
    "feed",
    "fieldwork",
    "leads",
    "money",
    "notifications",
    "ops",
    "org",
    "pipeline",
    "privacy",
    "reports",
    "retention",
    "targets",
    "tasks",
    "tickets",
)

# Calls whose second positional argument (or `code=`) is a problem code.
CODE_CALLS = {"ProblemError", "field_error", "field_errors", "problem_response"}


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _code_arg(call: ast.Call) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == "code":
            return keyword.value
    return call.args[1] if len(call.args) > 1 else None


def _code_calls(tree: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _name(node.func) in CODE_CALLS
    ]


def _literal_codes(tree: ast.AST) -> set[str]:
    codes = set()
    for call in _code_calls(tree):
        arg = _code_arg(call)
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            codes.add(arg.value)
    return codes


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _catalogue_path(package: str) -> Path:
    return APP / package / "errors.py"


def _rel(path: Path) -> str:
    return str(path.relative_to(APP.parent))


def _package_codes() -> dict[str, dict[str, str]]:
    """package → {constructor name → the one literal code it builds}."""
    catalogue: dict[str, dict[str, str]] = {}
    for package in PACKAGES:
        tree = _parse(_catalogue_path(package))
        constructors: dict[str, str] = {}
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                codes = _literal_codes(node)
                assert len(codes) == 1, f"{package}.errors.{node.name} builds codes {codes}"
                constructors[node.name] = codes.pop()
        catalogue[package] = constructors
    return catalogue


def test_every_package_has_a_catalogue() -> None:
    for package in PACKAGES:
        assert _catalogue_path(package).is_file(), f"app/{package}/errors.py is missing"


def test_catalogue_codes_are_literal() -> None:
    for package in PACKAGES:
        for call in _code_calls(_parse(_catalogue_path(package))):
            arg = _code_arg(call)
            assert isinstance(arg, ast.Constant) and isinstance(arg.value, str), (
                f"app/{package}/errors.py:{call.lineno}: the code must be a string literal"
            )


def test_constructors_are_named_after_their_code() -> None:
    for package, constructors in _package_codes().items():
        assert constructors, f"app/{package}/errors.py defines no constructor"
        for name, code in constructors.items():
            assert name == code, f"{package}.errors.{name} builds {code!r}"


def test_constructors_with_defaults_build_their_code() -> None:
    for package, constructors in _package_codes().items():
        module = importlib.import_module(f"app.{package}.errors")
        for name, code in constructors.items():
            constructor = getattr(module, name)
            params = inspect.signature(constructor).parameters.values()
            if any(p.default is inspect.Parameter.empty for p in params):
                continue  # needs facts (a cap, the matches); covered by the AST checks
            problem = constructor()
            assert isinstance(problem, ProblemError)
            assert problem.code == code
            assert 400 <= problem.status < 600


def test_no_inline_problem_errors_outside_the_catalogue() -> None:
    offenders = []
    for path in sorted(APP.rglob("*.py")):
        if path.name == "errors.py" or path.parent == APP / "core":
            continue
        for node in ast.walk(_parse(path)):
            if isinstance(node, ast.Call) and _name(node.func) == "ProblemError":
                offenders.append(f"{_rel(path)}:{node.lineno}")
    assert not offenders, f"raise a named constructor from errors.py instead: {offenders}"


def test_no_hand_built_field_errors() -> None:
    offenders = []
    for path in sorted(APP.rglob("*.py")):
        if path == APP / "core" / "errors.py":
            continue
        for node in ast.walk(_parse(path)):
            if isinstance(node, ast.Dict) and any(
                isinstance(key, ast.Constant) and key.value == "loc" for key in node.keys
            ):
                offenders.append(f"{_rel(path)}:{node.lineno}")
    assert not offenders, f"use app.core.errors.field_error / field_issue: {offenders}"


def test_codes_are_unique() -> None:
    # No code is shared on purpose: a code another package needs is imported from its owner
    # (fieldwork raises customers.errors.customer_not_owned, customers raises
    # org.errors.unknown_department), and cross-cutting ones live in app/core only.
    where: defaultdict[str, list[str]] = defaultdict(list)
    for package, constructors in _package_codes().items():
        for name, code in constructors.items():
            where[code].append(f"app.{package}.errors.{name}")
    for path in sorted((APP / "core").glob("*.py")):
        for code in _literal_codes(_parse(path)):
            where[code].append(_rel(path))
    shared = {code: places for code, places in where.items() if len(places) > 1}
    assert not shared, f"codes defined in more than one place: {shared}"


@pytest.mark.parametrize(
    ("problem", "errors"),
    [
        (
            field_error(422, "c", "d", loc=("body", "x"), msg="m"),
            [{"loc": ["body", "x"], "msg": "m", "type": "value_error"}],
        ),
        (
            field_errors(422, "c", "d", [field_issue(("body", "ids", 2), "m", "t")]),
            [{"loc": ["body", "ids", 2], "msg": "m", "type": "t"}],
        ),
    ],
)
def test_field_errors_keep_their_shape(problem: ProblemError, errors: list[object]) -> None:
    assert problem.extra["errors"] == errors
    assert [list(entry) for entry in problem.extra["errors"]] == [["loc", "msg", "type"]]
