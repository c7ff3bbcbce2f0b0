"""Configuration from the environment (prefix ``BLINK_``) with pydantic-settings."""

from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

LogLevel = Literal["critical", "error", "warning", "info", "debug"]
AsyncDriver = Literal["asyncpg", "psycopg"]
LogFormat = Literal["auto", "json", "text"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BLINK_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./var/blink-directory.db",
        description="SQLAlchemy URL: sqlite:///path or postgresql://user@host/db",
    )
    # PostgreSQL only (issue 12): the connection pool and statement timeouts of each worker.
    db_pool_size: int = Field(
        default=10, ge=1, le=200, description="PostgreSQL connections each worker keeps open"
    )
    db_max_overflow: int = Field(
        default=20, ge=0, le=500, description="Further PostgreSQL connections a worker may open"
    )
    db_statement_timeout_ms: int = Field(
        default=5000,
        ge=0,
        description="Longest a request's PostgreSQL statement may run (0: no limit); 503 beyond",
    )
    db_large_statement_timeout_ms: int = Field(
        default=120_000,
        ge=0,
        description="The same for work that grows with the tenant (large group changes, "
        "activity-log pruning, org-chart figures; 0: no limit)",
    )
    db_analyze_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How often the server checks whether a growing table doubled since its "
        "last ANALYZE and analyzes it (0: never; autovacuum's own ANALYZE then has to do)",
    )
    db_async_driver: AsyncDriver = Field(
        default="asyncpg",
        description="Driver of the PostgreSQL connections requests use (asyncpg or psycopg)",
    )
    host: str = Field(default="127.0.0.1", description="Interface `serve` binds to")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `serve` listens on")
    log_level: LogLevel = Field(default="info", description="uvicorn and application log level")
    base_url: str | None = Field(
        default=None,
        description="Public URL for meta.location and $ref; derived from each request if unset",
    )
    token_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a verified token is trusted before it is looked up again",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest request body accepted (413 above)"
    )
    max_json_depth: int = Field(
        default=32,
        ge=8,
        le=512,
        description="Deepest nesting of arrays and objects in a request body (400 beyond)",
    )
    debug: bool = Field(default=False, description="Unmasked GraphQL errors; never in production")
    log_format: LogFormat = Field(
        default="auto", description="json, text, or auto: text on a terminal, JSON otherwise"
    )
    request_log: bool = Field(default=True, description="One structured line per request")
    metrics_address: str | None = Field(
        default=None,
        description="host:port where Prometheus metrics are served (unset: not served)",
    )
    metrics_tenant_labels: bool = Field(
        default=False, description="Label request and SCIM write metrics with the tenant slug"
    )
    gc_freeze: bool = Field(
        default=True,
        description="Collect once at startup and keep what exists then out of the garbage"
        " collector's way (gc.freeze) for the life of the process",
    )
    rate_limit_per_second: float = Field(
        default=250.0, ge=0, description="Requests per second per token (0: no limit)"
    )
    rate_limit_burst: int = Field(
        default=500, ge=0, description="Requests a token may send at once above the rate"
    )
    activity_log: bool = Field(
        default=True, description="Record every SCIM change and refused write (activity log)"
    )
    activity_retention_days: int = Field(
        default=90, ge=0, description="Days activity events are kept (0: kept forever)"
    )
    # OAuth 2.0 and HTTP hardening (issue 16).
    access_token_seconds: int = Field(
        default=3600,
        ge=3600,
        le=21600,
        description="Lifetime of an OAuth access token from POST /oauth/token (1 to 6 hours)",
    )
    cors_origins: str = Field(
        default="",
        description="Comma-separated origins (https://app.example) allowed cross-origin calls; "
        "empty: none",
    )
    body_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="Time a client has to send a request body (408 after it)",
    )
    header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="Time a client has to send a request head (then its connection is closed)",
    )

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for origin in _split_origins(value):
            scheme, _, rest = origin.partition("://")
            if scheme not in ("http", "https") or not rest or "/" in rest:
                raise ValueError(f"{origin!r} is not an origin such as https://app.example")
        return value

    @property
    def cors_origin_list(self) -> list[str]:
        return _split_origins(self.cors_origins)

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_case_format(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("metrics_address")
    @classmethod
    def _host_and_port(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("must be host:port, e.g. 127.0.0.1:9464")
        return value

    @property
    def metrics_host_port(self) -> tuple[str, int] | None:
        if self.metrics_address is None:
            return None
        host, _, port = self.metrics_address.rpartition(":")
        return host.strip("[]"), int(port)

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_case_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _valid_database_url(cls, value: str) -> str:
        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError:
            raise ValueError(f"not a database URL: {value!r}") from None
        if backend not in ("sqlite", "postgresql", "postgres"):
            raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
        return value

    @field_validator("base_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


def _split_origins(value: str) -> list[str]:
    return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]


def describe_validation_error(error: ValidationError) -> str:
    """One line naming each bad setting, for the CLI and start-up."""
    parts = []
    for problem in error.errors():
        name = ".".join(str(part) for part in problem["loc"]) or "settings"
        parts.append(f"BLINK_{name.upper()}: {problem['msg']}")
    return "invalid configuration: " + "; ".join(parts)
