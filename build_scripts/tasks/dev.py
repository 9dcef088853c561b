"""dev.*: run the services from source on this machine, for development."""

from __future__ import annotations

from pathlib import Path

from invoke import Collection

from build_scripts.core import paths
from build_scripts.core.progress import say
from build_scripts.services import build as services
from build_scripts.tasks._base import release_task


@release_task(
    help={
        "listen": "address to listen on",
        "data-dir": "where config.toml and the audit log live (default: the state dir)",
        "token": "the admin's bearer token (reads and changes)",
    }
)
def backend(c, listen=None, data_dir=None, token=None):
    """Run the Go backend from source in the foreground."""
    cfg = c.config.dev
    directory = Path(data_dir) if data_dir else paths.state_dir() / "dev" / "backend"
    token = token or cfg.token
    say(
        f"backend on {listen or cfg.backend_listen}, data in {directory}, admin token {token!r}, "
        f"orchestrator token {cfg.orchestrator_token!r}"
    )
    services.run_backend_dev(listen or cfg.backend_listen, directory, token, cfg.orchestrator_token)


@release_task(
    help={
        "backend-url": "the backend to talk to",
        "listen": "address of the /healthz and /readyz server",
        "token": "the orchestrator's bearer token (reads and heartbeats)",
        "tick": "seconds between ticks",
    }
)
def orchestrator(c, backend_url=None, listen=None, token=None, tick=None):
    """Run the Python orchestrator from source in the foreground."""
    cfg = c.config.dev
    services.run_orchestrator_dev(
        backend_url or cfg.backend_url,
        listen or cfg.orchestrator_listen,
        token or cfg.orchestrator_token,
        float(tick or cfg.tick_seconds),
    )


ns = Collection(backend, orchestrator)
ns.configure(
    {
        "dev": {
            "backend_listen": "127.0.0.1:8080",
            "backend_url": "http://127.0.0.1:8080",
            "orchestrator_listen": "127.0.0.1:8081",
            "token": services.DEV_TOKEN,
            "orchestrator_token": services.DEV_ORCHESTRATOR_TOKEN,
            "tick_seconds": 2,
        }
    }
)
