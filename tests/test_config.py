"""Settings come from VERACITY_* variables and reject bad values with a message that says what to do."""

from __future__ import annotations

import pytest

from veracity.config import Settings
from veracity.errors import ConfigError


def test_defaults_need_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("VERACITY_TOP_K", "VERACITY_DEVICE", "VERACITY_DATABASE_URL", "VERACITY_INDEX"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    assert settings.top_k == 5 and settings.device == "cpu" and settings.database_url is None


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERACITY_TOP_K", "3")
    monkeypatch.setenv("VERACITY_INDEX", "ivfflat")
    settings = Settings.from_env()
    assert (settings.top_k, settings.index) == (3, "ivfflat")


@pytest.mark.parametrize(
    ("name", "value"), [("VERACITY_TOP_K", "many"), ("VERACITY_TOP_K", "0"), ("VERACITY_INDEX", "lsh")]
)
def test_bad_environment_value_is_a_config_error(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name.removeprefix("VERACITY_").lower() + "|" + name):
        Settings.from_env()


def test_unknown_device_is_rejected() -> None:
    with pytest.raises(ConfigError, match="device"):
        Settings(device="tpu")


def test_overrides_ignore_none() -> None:
    assert Settings().with_overrides(top_k=None, index="exact").index == "exact"
