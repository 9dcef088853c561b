"""Settings read from ORCHESTRATOR_* environment variables, validated once at start-up."""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from traderadmin_orchestrator.errors import SettingsError

DEFAULT_BACKEND_URL = "http://127.0.0.1:8080"
DEFAULT_LISTEN = "0.0.0.0:8081"
DEFAULT_TICK_SECONDS = 5.0
MIN_TICK_SECONDS = 0.05
MAX_TICK_SECONDS = 3600.0
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class Settings:
    backend_url: str
    listen_host: str
    listen_port: int
    tick_seconds: float
    instance: str
    token: str | None
    token_file: Path | None
    log_level: str = "INFO"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build `Settings` from the environment; raise `SettingsError` naming the bad variable."""
    env = os.environ if environ is None else environ
    host, port = parse_listen(_get(env, "ORCHESTRATOR_LISTEN", DEFAULT_LISTEN))
    token, token_file = _token_settings(env)
    return Settings(
        backend_url=parse_backend_url(_get(env, "ORCHESTRATOR_BACKEND_URL", DEFAULT_BACKEND_URL)),
        listen_host=host,
        listen_port=port,
        tick_seconds=parse_tick_seconds(
            _get(env, "ORCHESTRATOR_TICK_SECONDS", str(DEFAULT_TICK_SECONDS))
        ),
        instance=_instance(env),
        token=token,
        token_file=token_file,
        log_level=_log_level(env),
    )


def _get(env: Mapping[str, str], name: str, default: str) -> str:
    # An empty variable (common in manifests: `value: ""`) means "use the default".
    value = env.get(name, "").strip()
    return value or default


def parse_backend_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(
            f"ORCHESTRATOR_BACKEND_URL={value!r} is not an http(s) URL with a host, "
            f"e.g. {DEFAULT_BACKEND_URL}"
        )
    return value.rstrip("/")


def parse_listen(value: str) -> tuple[str, int]:
    """Parse `host:port`, `:port` (all interfaces) or `[v6addr]:port`."""
    error = SettingsError(
        f"ORCHESTRATOR_LISTEN={value!r} is not host:port, e.g. {DEFAULT_LISTEN} or 127.0.0.1:18081"
    )
    host, sep, port_text = value.rpartition(":")
    if not sep or not port_text.isdigit():
        raise error
    port = int(port_text)
    if not 0 <= port <= 65535:
        raise error
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise error
    return host or "0.0.0.0", port


def parse_tick_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not MIN_TICK_SECONDS <= seconds <= MAX_TICK_SECONDS:
        raise SettingsError(
            f"ORCHESTRATOR_TICK_SECONDS={value!r} must be a number of seconds between "
            f"{MIN_TICK_SECONDS} and {MAX_TICK_SECONDS:g}"
        )
    return seconds


def _instance(env: Mapping[str, str]) -> str:
    instance = _get(env, "ORCHESTRATOR_INSTANCE", socket.gethostname())
    if len(instance) > 253 or not instance.isprintable():
        raise SettingsError(
            "ORCHESTRATOR_INSTANCE must be a printable name of at most 253 characters"
        )
    return instance


def _token_settings(env: Mapping[str, str]) -> tuple[str | None, Path | None]:
    token = env.get("ORCHESTRATOR_TOKEN", "").strip() or None
    token_file_text = env.get("ORCHESTRATOR_TOKEN_FILE", "").strip()
    if token and token_file_text:
        raise SettingsError(
            "set only one of ORCHESTRATOR_TOKEN and ORCHESTRATOR_TOKEN_FILE, not both"
        )
    if not token_file_text:
        return token, None
    token_file = Path(token_file_text)
    read_token_file(token_file)  # fail at start-up, not at the first heartbeat
    return None, token_file


def read_token_file(path: Path) -> str:
    """The token is the file's first line that is not blank or a `#` comment. The backend
    accepts every line of its copy, so during a rotation the Secret can hold the token in use
    first and the other one after it (see DEPLOYMENT.md)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"ORCHESTRATOR_TOKEN_FILE={str(path)!r} cannot be read: {exc}") from exc
    for line in text.splitlines():
        token = line.strip()
        if token and not token.startswith("#"):
            return token
    raise SettingsError(f"ORCHESTRATOR_TOKEN_FILE={str(path)!r} is empty")


def _log_level(env: Mapping[str, str]) -> str:
    level = _get(env, "ORCHESTRATOR_LOG_LEVEL", "INFO").upper()
    if level not in LOG_LEVELS:
        raise SettingsError(
            f"ORCHESTRATOR_LOG_LEVEL={level!r} must be one of {', '.join(LOG_LEVELS)}"
        )
    return level
