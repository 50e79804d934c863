"""The layering the code relies on: `core` knows no domain package, and nobody fills
start-up hook lists (who reacts to what is `app/composition.py`)."""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOMAINS = (
    "auth",
    "org",
    "customers",
    "fieldwork",
    "feed",
    "notifications",
    "reports",
    "ops",
    "pipeline",
    "leads",
    "money",
    "approvals",
    "targets",
    "coverage",
    "dashboard",
    "privacy",
    "retention",
    "attendance",
    "tasks",
    "tickets",
)


def _imports(path: pathlib.Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_core_imports_no_domain_package():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name
            for name in _imports(path)
            if name.split(".")[:2][-1] in DOMAINS and name.startswith("app.")
        )
        for path in (ROOT / "app" / "core").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_no_module_appends_to_a_hook_list_at_start_up():
    appended = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "app").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
        and node.attr == "append"
        and isinstance(node.value, ast.Attribute)
        and node.value.attr.endswith(("_hooks", "_sources"))
    ]
    assert appended == []
