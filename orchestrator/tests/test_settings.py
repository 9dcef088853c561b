from pathlib import Path

import pytest

from traderadmin_orchestrator.errors import SettingsError
from traderadmin_orchestrator.settings import load_settings, parse_listen


def test_defaults():
    settings = load_settings({})
    assert settings.backend_url == "http://127.0.0.1:8080"
    assert (settings.listen_host, settings.listen_port) == ("0.0.0.0", 8081)
    assert settings.tick_seconds == 5.0
    assert settings.instance  # the hostname
    assert settings.token is None
    assert settings.token_file is None


def test_all_variables_are_read(tmp_path: Path):
    token_file = tmp_path / "token"
    token_file.write_text("abc\n")
    settings = load_settings(
        {
            "ORCHESTRATOR_BACKEND_URL": "https://backend.traderadmin:8080/",
            "ORCHESTRATOR_TOKEN_FILE": str(token_file),
            "ORCHESTRATOR_LISTEN": "127.0.0.1:18081",
            "ORCHESTRATOR_TICK_SECONDS": "0.5",
            "ORCHESTRATOR_INSTANCE": "orch-0",
            "ORCHESTRATOR_LOG_LEVEL": "debug",
        }
    )
    assert settings.backend_url == "https://backend.traderadmin:8080"
    assert settings.token_file == token_file
    assert (settings.listen_host, settings.listen_port) == ("127.0.0.1", 18081)
    assert settings.tick_seconds == 0.5
    assert settings.instance == "orch-0"
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.0.0.0:8081", ("0.0.0.0", 8081)),
        (":9000", ("0.0.0.0", 9000)),
        ("[::1]:9000", ("::1", 9000)),
        ("localhost:0", ("localhost", 0)),
    ],
)
def test_parse_listen(value, expected):
    assert parse_listen(value) == expected


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ORCHESTRATOR_TICK_SECONDS", "abc", "ORCHESTRATOR_TICK_SECONDS"),
        ("ORCHESTRATOR_TICK_SECONDS", "0", "between"),
        ("ORCHESTRATOR_TICK_SECONDS", "nan", "between"),
        ("ORCHESTRATOR_LISTEN", "8081", "host:port"),
        ("ORCHESTRATOR_LISTEN", "host:99999", "host:port"),
        ("ORCHESTRATOR_LISTEN", "::1:80", "host:port"),
        ("ORCHESTRATOR_BACKEND_URL", "backend:8080", "is not an http"),
        ("ORCHESTRATOR_BACKEND_URL", "ftp://backend", "is not an http"),
        ("ORCHESTRATOR_TOKEN_FILE", "/nonexistent/token", "cannot be read"),
        ("ORCHESTRATOR_LOG_LEVEL", "chatty", "ORCHESTRATOR_LOG_LEVEL"),
    ],
)
def test_invalid_values_name_the_variable(name, value, message):
    with pytest.raises(SettingsError, match=message) as excinfo:
        load_settings({name: value})
    assert excinfo.value.exit_code == 2


def test_token_and_token_file_together_are_ambiguous(tmp_path: Path):
    token_file = tmp_path / "token"
    token_file.write_text("abc")
    with pytest.raises(SettingsError, match="only one"):
        load_settings({"ORCHESTRATOR_TOKEN": "x", "ORCHESTRATOR_TOKEN_FILE": str(token_file)})


def test_empty_token_file_is_rejected(tmp_path: Path):
    token_file = tmp_path / "token"
    token_file.write_text("\n")
    with pytest.raises(SettingsError, match="empty"):
        load_settings({"ORCHESTRATOR_TOKEN_FILE": str(token_file)})


def test_empty_variables_mean_default():
    settings = load_settings({"ORCHESTRATOR_TICK_SECONDS": "", "ORCHESTRATOR_LISTEN": " "})
    assert settings.tick_seconds == 5.0
    assert settings.listen_port == 8081
