"""Settings are declared once: parsed and validated at start, printed by the CLI, listed in the README."""

import re
from pathlib import Path

import pytest

from dialogkarta import settings
from dialogkarta.webmap.app import create_app
from tests.conftest import DialogkartaRunner

README = Path(__file__).resolve().parents[1] / "README.md"


def make_app(tmp_path, **config):
    return create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), **config})


def test_environment_values_arrive_as_their_declared_types(tmp_path, monkeypatch):
    monkeypatch.setenv("DIALOGKARTA_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DIALOGKARTA_PUBLIC_GRID_M", "50")
    monkeypatch.setenv("DIALOGKARTA_HOLD_LINKS", "off")
    monkeypatch.setenv("DIALOGKARTA_LANGUAGES", "sv,en")
    app = create_app()
    assert (app.config["PUBLIC_GRID_M"], app.config["HOLD_LINKS"], app.config["LANGUAGES"]) == (50.0, False, ["sv", "en"])


@pytest.mark.parametrize(
    "name, value, complaint",
    [
        ("PROXY_COUNT", "two", "DIALOGKARTA_PROXY_COUNT"),
        ("PROXY_COUNT", -1, "at least 0"),
        ("HOLD_LINKS", "maybe", "true or false"),
        ("FLAG_HIDE_THRESHOLD", 2.5, "whole number"),
        ("PUBLIC_GRID_M", "nan", "finite"),
        ("RATELIMIT_SUPPORTS", "ten per minute", "count/period"),
        ("RATELIMIT_FLAGS", "0/minute", "positive"),
        ("REDIS_URL", "cache.example:6379", "redis://host:port/db"),
    ],
)
def test_a_bad_value_stops_the_app_at_start_naming_the_variable(tmp_path, name, value, complaint):
    with pytest.raises(settings.SettingsError, match=complaint):
        make_app(tmp_path, **{name: value})


def test_a_wrong_redis_address_is_refused_without_repeating_its_password(tmp_path):
    with pytest.raises(settings.SettingsError, match="scheme 'http'") as error:
        make_app(tmp_path, REDIS_URL="http://:hemligt@cache.example:6379/0")
    assert "hemligt" not in str(error.value)


def test_every_problem_is_reported_at_once(tmp_path):
    with pytest.raises(settings.SettingsError) as error:
        make_app(tmp_path, PROXY_COUNT="x", LOGIN_MAX_FAILURES=0)
    assert "DIALOGKARTA_PROXY_COUNT" in str(error.value) and "DIALOGKARTA_LOGIN_MAX_FAILURES" in str(error.value)


def test_the_settings_command_prints_every_setting_with_secrets_masked(tmp_path):
    app = make_app(tmp_path, SECRET_KEY="hemligt-nyckelvärde", PUBLIC_GRID_M=25)
    output = DialogkartaRunner(app).invoke(args=["settings"]).output
    assert "hemligt-nyckelvärde" not in output
    assert "DIALOGKARTA_SECRET_KEY = (set, hidden)" in output
    assert "DIALOGKARTA_PUBLIC_GRID_M = 25.0" in output
    assert {line.split(" = ")[0] for line in output.splitlines() if line.startswith("DIALOGKARTA_")} == {
        setting.variable for setting in settings.SETTINGS
    }


def test_the_readme_configuration_table_lists_exactly_the_declared_settings():
    text = README.read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `DIALOGKARTA_")]
    documented = {name for row in rows for name in re.findall(r"`(DIALOGKARTA_[A-Z0-9_]+)`", row.split("|")[1])}
    assert documented == {setting.variable for setting in settings.SETTINGS}
