#!/usr/bin/env bash
# Start the API and the arq worker together; Ctrl-C (or SIGTERM) stops both cleanly.
# Called by `make run` after services, migrations and the demo seed are in place.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST="${OUTFIELD_HOST:-127.0.0.1}"
PORT="${OUTFIELD_PORT:-8000}"
BIN=.venv/bin

"$BIN/uvicorn" app.main:app --host "$HOST" --port "$PORT" --no-access-log --no-proxy-headers &
API_PID=$!
"$BIN/arq" workers.main.WorkerSettings &
WORKER_PID=$!

stop() {
  trap - INT TERM EXIT
  echo "stopping API ($API_PID) and worker ($WORKER_PID)…" >&2
  kill -TERM "$API_PID" "$WORKER_PID" 2>/dev/null || true
  wait "$API_PID" "$WORKER_PID" 2>/dev/null || true
}
trap stop INT TERM EXIT

for _ in $(seq 1 100); do
  if curl -fsS "http://$HOST:$PORT/healthz" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
cat >&2 <<MSG

  Outfield is running.
    API:    http://$HOST:$PORT
    Docs:   http://$HOST:$PORT/docs
    Ready:  http://$HOST:$PORT/readyz
  Demo logins (password: outfield-demo):
    admin@demo.outfield.test, manager01@demo.outfield.test, manager02@demo.outfield.test,
    rep01@demo.outfield.test … rep10@demo.outfield.test
  Ctrl-C stops the API and the worker.

MSG
# Exit as soon as either process dies; the trap stops the other.
wait -n "$API_PID" "$WORKER_PID"
