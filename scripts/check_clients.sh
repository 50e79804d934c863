#!/usr/bin/env bash
# Generate the TypeScript and Python clients from the committed OpenAPI document, from scratch
# in a temp dir, with pinned generators, and fail on any generator warning or build error.
#   bash scripts/check_clients.sh [path/to/openapi.json]
# A manual check (downloads the generators from npm and PyPI); not run by `make lint`/`make test`.
# Needs Node 20+ with npm and python3 with venv. KEEP_CLIENTS=1 keeps the temp dir.
set -euo pipefail

OPENAPI_TS_VERSION=0.99.0           # @hey-api/openapi-ts (its fetch client is built in)
TYPESCRIPT_VERSION=5.9.3            # 7.x has no JS compiler API, which openapi-ts needs
OPENAPI_PYTHON_CLIENT_VERSION=0.29.1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SPEC=$(realpath "${1:-$ROOT/openapi/openapi.json}")
# The generator's post-hooks run ruff on the Python client: the project's pinned ruff.
RUFF_VERSION=$(sed -n 's/^ruff==\([0-9.]*\).*/\1/p' "$ROOT/requirements-dev.lock")
[ -n "$RUFF_VERSION" ] || { echo "no ruff pin in requirements-dev.lock" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/outfield-clients.XXXXXX")
if [ "${KEEP_CLIENTS:-0}" = 1 ]; then echo "keeping $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
export NO_COLOR=1 FORCE_COLOR=0 npm_config_fund=false npm_config_audit=false

echo "== TypeScript: @hey-api/openapi-ts $OPENAPI_TS_VERSION, typescript $TYPESCRIPT_VERSION"
mkdir -p "$WORK/ts"
cp "$SPEC" "$WORK/ts/openapi.json"
(
    cd "$WORK/ts"
    npm init -y >/dev/null
    npm install --save-exact --loglevel=error --engine-strict=false \
        "@hey-api/openapi-ts@$OPENAPI_TS_VERSION" "typescript@$TYPESCRIPT_VERSION" >/dev/null
    cat >tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022",
    "lib": ["ES2022", "DOM", "DOM.Iterable"],
    "module": "ESNext",
    "moduleResolution": "Bundler",
    "strict": true,
    "noUncheckedIndexedAccess": true,
    "noImplicitOverride": true,
    "noImplicitReturns": true,
    "noFallthroughCasesInSwitch": true,
    "noPropertyAccessFromIndexSignature": true,
    "isolatedModules": true,
    "verbatimModuleSyntax": true,
    "forceConsistentCasingInFileNames": true,
    "noEmit": true
  },
  "include": ["src"]
}
JSON
)
if (cd "$WORK/ts" && npx --no-install openapi-ts --no-log-file \
    -i openapi.json -o src/client -c @hey-api/client-fetch) >"$WORK/ts/generate.log" 2>&1; then
    cat "$WORK/ts/generate.log"
    if grep -Eqi 'warn|error|deprecat|unsupported|skipp|invalid' "$WORK/ts/generate.log"; then
        fail "openapi-ts printed warnings (above)"
    fi
else
    cat "$WORK/ts/generate.log"
    fail "openapi-ts failed"
fi
if [ -f "$WORK/ts/src/client/index.ts" ]; then
    if (cd "$WORK/ts" && npx --no-install tsc --noEmit -p tsconfig.json); then
        echo "tsc --noEmit: no errors"
    else
        fail "tsc --noEmit reported errors (above)"
    fi
fi

echo "== Python: openapi-python-client $OPENAPI_PYTHON_CLIENT_VERSION, ruff $RUFF_VERSION"
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --disable-pip-version-check \
    "openapi-python-client==$OPENAPI_PYTHON_CLIENT_VERSION" "ruff==$RUFF_VERSION" \
    >"$WORK/pip.log" 2>&1 || { cat "$WORK/pip.log" >&2; exit 1; }
cp "$SPEC" "$WORK/openapi.json"
if PATH="$WORK/venv/bin:$PATH" "$WORK/venv/bin/openapi-python-client" generate \
    --path "$WORK/openapi.json" --output-path "$WORK/py" >"$WORK/py-generate.log" 2>&1; then
    cat "$WORK/py-generate.log"
    if grep -Eqi 'warning|error' "$WORK/py-generate.log"; then
        fail "openapi-python-client printed warnings (above)"
    fi
else
    cat "$WORK/py-generate.log"
    fail "openapi-python-client failed"
fi
if [ -d "$WORK/py" ]; then
    package=$(basename "$(dirname "$(find "$WORK/py" -mindepth 2 -maxdepth 2 -name client.py)")")
    if ! "$WORK/venv/bin/python" - "$WORK/openapi.json" "$WORK/py" "$package" <<'PY'; then
"""Every operation has its module (named from its camelCase operationId, snake-cased, under
its first tag), every module imports, and binary downloads return `File`."""
import importlib
import json
import pkgutil
import re
import sys
import typing

spec_path, root, package = sys.argv[1:]
sys.path.insert(0, root)
spec = json.load(open(spec_path, encoding="utf-8"))
types = importlib.import_module(f"{package}.types")


def snake(name: str) -> str:
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()


def binary(response: dict) -> bool:
    return any(
        body.get("schema", {}).get("format") == "binary"
        for media_type, body in response.get("content", {}).items()
        if "json" not in media_type
    )


problems: list[str] = []
expected: dict[str, tuple[str, dict]] = {}
for path, operations in spec["paths"].items():
    for method, operation in operations.items():
        op_id = operation.get("operationId")
        if not op_id:
            problems.append(f"{method.upper()} {path}: no operationId")
            continue
        tag = snake((operation.get("tags") or ["default"])[0])
        expected[f"{package}.api.{tag}.{snake(op_id)}"] = (op_id, operation)

api = importlib.import_module(f"{package}.api")
found = {
    info.name
    for info in pkgutil.walk_packages(api.__path__, f"{package}.api.")
    if not info.ispkg
}
for name in sorted(found - expected.keys()):
    problems.append(f"{name}: a module with no operationId")
for name, (op_id, operation) in sorted(expected.items()):
    if name not in found:
        problems.append(f"{op_id}: no module {name}")
        continue
    module = importlib.import_module(name)
    for function in ("sync_detailed", "sync", "asyncio_detailed", "asyncio"):
        if not callable(getattr(module, function, None)):
            problems.append(f"{op_id}: {name}.{function} missing")
    if any(binary(r) for s, r in operation["responses"].items() if s.startswith("2")):
        returned = typing.get_type_hints(module.sync_detailed)["return"]  # Response[X]
        parsed = typing.get_args(returned)[0]
        if types.File not in (typing.get_args(parsed) or (parsed,)):
            problems.append(f"{op_id}: a binary download, but {name} returns {returned}")

print(f"{len(found)} operation modules for {len(expected)} operationIds")
for problem in problems:
    print("  " + problem)
sys.exit(1 if problems else 0)
PY
        fail "the generated Python client does not match the operations (above)"
    fi
fi

if [ "$failures" -ne 0 ]; then
    echo "check_clients: $failures problem(s)" >&2
    exit 1
fi
echo "check_clients: both clients generate without warnings and build"
