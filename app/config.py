"""One Settings object for the API and the worker, read from env vars (prefix-free names below)."""

import ipaddress
from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core.limits import MAX_BODY_BYTES

DEV_SECRET_KEY = "outfield-dev-secret-not-for-production-use-0123456789"


class Settings(BaseSettings):
    """Every setting has a safe local default; production refuses to start without secrets."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    env: Literal["development", "test", "production"] = Field("development", alias="OUTFIELD_ENV")
    database_url: str = Field("postgresql://outfield@127.0.0.1:5432/outfield", alias="DATABASE_URL")
    redis_url: str = Field("redis://127.0.0.1:6379/0", alias="REDIS_URL")
    # The development key unless set; production must set it (`_secrets_in_production`).
    secret_key: str = Field(DEV_SECRET_KEY, alias="OUTFIELD_SECRET_KEY")
    jwt_issuer: str = Field("outfield", alias="OUTFIELD_JWT_ISSUER")
    jwt_audience: str = Field("outfield-api", alias="OUTFIELD_JWT_AUDIENCE")
    access_token_ttl_s: int = Field(900, alias="OUTFIELD_ACCESS_TOKEN_TTL_S", gt=0)
    refresh_token_ttl_s: int = Field(30 * 86400, alias="OUTFIELD_REFRESH_TOKEN_TTL_S", gt=0)
    refresh_grace_s: int = Field(30, alias="OUTFIELD_REFRESH_GRACE_S", ge=0)
    signup_enabled: bool = Field(True, alias="OUTFIELD_SIGNUP_ENABLED")
    login_rate_limit: int = Field(10, alias="OUTFIELD_LOGIN_RATE_LIMIT", gt=0)
    login_rate_window_s: int = Field(60, alias="OUTFIELD_LOGIN_RATE_WINDOW_S", gt=0)
    # Failed sign-ins per client address (any e-mail) and per e-mail (any address) per window.
    login_client_failure_limit: int = Field(30, alias="OUTFIELD_LOGIN_CLIENT_FAILURE_LIMIT", gt=0)
    login_account_failure_limit: int = Field(20, alias="OUTFIELD_LOGIN_ACCOUNT_FAILURE_LIMIT", gt=0)
    # Reverse proxies (IPs or CIDR networks, comma-separated) whose X-Forwarded-For is
    # believed; empty: none, the client is the socket peer.
    trusted_proxies: str = Field("", alias="OUTFIELD_TRUSTED_PROXIES")
    idempotency_ttl_s: int = Field(86400, alias="OUTFIELD_IDEMPOTENCY_TTL_S", gt=0)
    db_pool_size: int = Field(10, alias="OUTFIELD_DB_POOL_SIZE", gt=0)
    db_echo: bool = Field(False, alias="OUTFIELD_DB_ECHO")
    log_level: str = Field("INFO", alias="OUTFIELD_LOG_LEVEL")
    heartbeat_cron_minutes: int = Field(1, alias="OUTFIELD_HEARTBEAT_MINUTES", gt=0)
    delivery_cron_minutes: int = Field(1, alias="OUTFIELD_DELIVERY_MINUTES", gt=0)
    recycle_cron_minutes: int = Field(10, alias="OUTFIELD_RECYCLE_MINUTES", gt=0)
    reminders_cron_minutes: int = Field(10, alias="OUTFIELD_REMINDERS_MINUTES", gt=0)
    pipeline_cron_minutes: int = Field(15, alias="OUTFIELD_PIPELINE_MINUTES", gt=0)
    money_cron_minutes: int = Field(15, alias="OUTFIELD_MONEY_MINUTES", gt=0)
    targets_cron_minutes: int = Field(15, alias="OUTFIELD_TARGETS_MINUTES", gt=0)
    imports_cron_minutes: int = Field(1, alias="OUTFIELD_IMPORTS_MINUTES", gt=0)
    purge_cron_minutes: int = Field(60, alias="OUTFIELD_PURGE_MINUTES", gt=0)
    worker_metrics_port: int = Field(9101, alias="OUTFIELD_WORKER_METRICS_PORT", ge=0, le=65535)
    reminder_hour: int = Field(9, alias="OUTFIELD_REMINDER_HOUR", ge=0, le=23)
    forgotten_after_days: int = Field(150, alias="OUTFIELD_FORGOTTEN_AFTER_DAYS", gt=0)
    worker_stale_after_s: int = Field(300, alias="OUTFIELD_WORKER_STALE_AFTER_S", gt=0)
    require_worker_for_ready: bool = Field(False, alias="OUTFIELD_READY_REQUIRES_WORKER")
    files_dir: str = Field("var/files", alias="OUTFIELD_FILES_DIR", min_length=1)
    max_upload_bytes: int = Field(10 * 1024 * 1024, alias="OUTFIELD_MAX_UPLOAD_BYTES", gt=0)
    # Request bodies other than uploads (413 `request_too_large`; app/core/request_guard.py).
    max_body_bytes: int = Field(MAX_BODY_BYTES, alias="OUTFIELD_MAX_BODY_BYTES", gt=0)
    # Webhooks: http:// and private-address hosts are for local development and tests only.
    webhook_allow_insecure_urls: bool = Field(False, alias="OUTFIELD_WEBHOOK_ALLOW_INSECURE_URLS")
    webhook_allow_private_hosts: str = Field("", alias="OUTFIELD_WEBHOOK_ALLOW_PRIVATE_HOSTS")
    webhook_retry_window_s: int = Field(86400, alias="OUTFIELD_WEBHOOK_RETRY_WINDOW_S", gt=0)
    # Push providers: each stays disabled (attempts recorded as failed) until configured.
    fcm_project_id: str | None = Field(None, alias="OUTFIELD_FCM_PROJECT_ID")
    fcm_service_account: str | None = Field(None, alias="OUTFIELD_FCM_SERVICE_ACCOUNT")
    fcm_base_url: str = Field("https://fcm.googleapis.com", alias="OUTFIELD_FCM_BASE_URL")
    fcm_token_uri: str | None = Field(None, alias="OUTFIELD_FCM_TOKEN_URI")
    apns_key_path: str | None = Field(None, alias="OUTFIELD_APNS_KEY_PATH")
    apns_key_id: str | None = Field(None, alias="OUTFIELD_APNS_KEY_ID")
    apns_team_id: str | None = Field(None, alias="OUTFIELD_APNS_TEAM_ID")
    apns_topic: str | None = Field(None, alias="OUTFIELD_APNS_TOPIC")
    apns_base_url: str = Field("https://api.push.apple.com", alias="OUTFIELD_APNS_BASE_URL")
    vapid_private_key: str | None = Field(None, alias="OUTFIELD_VAPID_PRIVATE_KEY")
    vapid_subject: str | None = Field(None, alias="OUTFIELD_VAPID_SUBJECT")
    webpush_endpoint_hosts: str = Field(
        "fcm.googleapis.com,*.push.services.mozilla.com,*.push.apple.com,*.notify.windows.com",
        alias="OUTFIELD_WEBPUSH_ENDPOINT_HOSTS",
    )
    push_ca_bundle: str | None = Field(None, alias="OUTFIELD_PUSH_CA_BUNDLE")
    push_max_attempts: int = Field(5, alias="OUTFIELD_PUSH_MAX_ATTEMPTS", gt=0)
    push_backoff_base_s: float = Field(30.0, alias="OUTFIELD_PUSH_BACKOFF_BASE_S", gt=0)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        for item in value.split(","):
            if item.strip():
                ipaddress.ip_network(item.strip(), strict=False)  # ValueError names the typo
        return value

    @model_validator(mode="after")
    def _secrets_in_production(self) -> "Settings":
        if self.env == "production" and "secret_key" not in self.model_fields_set:
            raise ValueError("OUTFIELD_SECRET_KEY must be set when OUTFIELD_ENV=production")
        if self.env == "production" and len(self.secret_key) < 32:
            raise ValueError("OUTFIELD_SECRET_KEY must be at least 32 characters in production")
        return self

    @property
    def async_database_url(self) -> str:
        """The DATABASE_URL with the asyncpg driver named, whatever form it was given in."""
        url = self.database_url
        for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+asyncpg://" + url[len(prefix) :]
        return url

    @property
    def trusted_proxy_list(self) -> list[str]:
        """OUTFIELD_TRUSTED_PROXIES as a list (empty: trust no X-Forwarded-For)."""
        return [item.strip() for item in self.trusted_proxies.split(",") if item.strip()]

    @property
    def is_production(self) -> bool:
        return self.env == "production"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests clear the cache to change them)."""
    return Settings()
