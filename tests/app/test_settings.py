"""Settings come from BLINK_* variables; bad values fail with one readable line."""

import os

import pytest
from pydantic import ValidationError

from app.settings import Settings, describe_validation_error


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in os.environ if name.startswith("BLINK_")]:
        monkeypatch.delenv(name)


def test_defaults() -> None:
    settings = Settings()
    assert settings.database_url == "sqlite:///./var/blink-directory.db"
    assert (settings.host, settings.port, settings.log_level) == ("127.0.0.1", 8000, "info")
    assert settings.base_url is None


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLINK_PORT", "9000")
    monkeypatch.setenv("BLINK_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("BLINK_BASE_URL", "https://directory.example.com/")
    settings = Settings()
    assert (settings.port, settings.log_level) == (9000, "debug")
    assert settings.base_url == "https://directory.example.com"


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("BLINK_PORT", "eighty", "BLINK_PORT"),
        ("BLINK_PORT", "70000", "BLINK_PORT"),
        ("BLINK_DATABASE_URL", "mysql://x@y/z", "unsupported database"),
        ("BLINK_DATABASE_URL", "not a url", "not a database URL"),
        ("BLINK_LOG_LEVEL", "loud", "BLINK_LOG_LEVEL"),
        ("BLINK_BASE_URL", "ftp://x", "http"),
        ("BLINK_LOG_FORMAT", "xml", "BLINK_LOG_FORMAT"),
        ("BLINK_METRICS_ADDRESS", "9464", "host:port"),
        ("BLINK_METRICS_ADDRESS", "127.0.0.1:99999", "host:port"),
        ("BLINK_RATE_LIMIT_PER_SECOND", "-1", "BLINK_RATE_LIMIT_PER_SECOND"),
        ("BLINK_RATE_LIMIT_BURST", "many", "BLINK_RATE_LIMIT_BURST"),
    ],
)
def test_bad_values_are_described_in_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as raised:
        Settings()
    message = describe_validation_error(raised.value)
    assert "\n" not in message
    assert fragment in message


def test_operations_defaults_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings()
    assert (defaults.log_format, defaults.request_log) == ("auto", True)
    assert defaults.metrics_address is None
    assert defaults.metrics_tenant_labels is False
    assert (defaults.rate_limit_per_second, defaults.rate_limit_burst) == (250, 500)
    assert defaults.gc_freeze is True
    monkeypatch.setenv("BLINK_LOG_FORMAT", "JSON")
    monkeypatch.setenv("BLINK_METRICS_ADDRESS", "[::1]:9464")
    monkeypatch.setenv("BLINK_RATE_LIMIT_PER_SECOND", "0")
    monkeypatch.setenv("BLINK_GC_FREEZE", "false")
    settings = Settings()
    assert settings.gc_freeze is False
    assert settings.log_format == "json"
    assert settings.metrics_host_port == ("::1", 9464)
    assert settings.rate_limit_per_second == 0
