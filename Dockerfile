# Outfield API / worker / migrations image.
#
#   docker build -t outfield .
#   docker run --rm -p 8000:8000 -e DATABASE_URL=... -e REDIS_URL=... \
#       -e OUTFIELD_ENV=production -e OUTFIELD_SECRET_KEY=... outfield
#
# The same image runs every role; only the command differs (see compose.yaml):
#   API        uvicorn app.main:app --host 0.0.0.0 --port 8000 --no-proxy-headers   (default CMD)
#   worker     arq workers.main.WorkerSettings
#   migrations alembic upgrade head
#
# The project itself is not pip-installed: the pinned dependencies from
# requirements.lock go into /opt/venv, and the app runs from the source tree in /app.

# Both stages must use the same base: the venv's python is a symlink to the base's
# /usr/local/bin/python3.11.
ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------- builder
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_NO_INPUT=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# Only the lock file: the dependency layer is rebuilt only when the pins change.
COPY requirements.lock /tmp/requirements.lock
RUN pip install -r /tmp/requirements.lock

# ---------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

# Unprivileged runtime user (fixed uid/gid, so volume permissions and
# runAsNonRoot policies are predictable).
RUN groupadd --system --gid 10001 outfield \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin outfield

WORKDIR /app

COPY --from=builder /opt/venv /opt/venv
# Code and config stay root-owned and read-only for the runtime user.
COPY app/ app/
COPY workers/ workers/
COPY migrations/ migrations/
COPY scripts/ scripts/
COPY openapi/ openapi/
COPY alembic.ini ./

# Byte-compile once at build time (the runtime user cannot write to /app).
RUN python -m compileall -q app workers migrations scripts

USER 10001:10001

EXPOSE 8000

# Liveness of the API process. The worker and migrate containers reuse this image
# and switch the check off in compose.yaml.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000", "--no-proxy-headers"]
