"""`deploy.backup` and `deploy.restore`: the backend's configuration and audit log, via its API.

The backend image is one static binary (no shell, no tar), so the volume cannot be read with
`kubectl exec`; the API returns the same configuration. It is reached through a kr8s port
forward to the backend Service: the kubelet connects inside the pod, so the NetworkPolicy that
closes the backend to other pods does not stand in the way, and no port is opened.

An archive (traderadmin-backup-<UTC time>.tar.gz) holds config.json, audit.json (the most
recent entries) and backup.json (the configuration's ETag, version, time). Restore PUTs the
configuration back with the API token and checks the ETag afterwards equals the archived one:
the ETag is a digest of the stored file, so equal ETags mean the same configuration.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import socket
import tarfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from build_scripts.core import atomic, on_first_use, poll
from build_scripts.core.errors import ConfigError, ReleaseError, VerificationFailed
from build_scripts.core.progress import say

httpx = on_first_use.module("httpx")
kr8s = on_first_use.module("kr8s")
kr8s_objects = on_first_use.module("kr8s.objects")

BACKEND_PORT = 8080
AUDIT_LIMIT = 1000  # the backend's audit.MaxLimit
MEMBERS = ("backup.json", "config.json", "audit.json")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def backend_api(
    api: kr8s.Api, namespace: str, token: str, timeout: float = 15
) -> Iterator[httpx.Client]:
    """An HTTP client for the backend with the admin token, through a port forward to its
    Service (the backend authenticates reads as well as changes)."""
    try:
        service = kr8s_objects.Service.get("backend", namespace=namespace, api=api)
    except kr8s.NotFoundError as exc:
        raise ReleaseError(
            f"no backend Service in namespace {namespace}", "deploy first: invoke deploy"
        ) from exc
    port = _free_port()
    forward = service.portforward(remote_port=BACKEND_PORT, local_port=port)
    forward.start()
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            timeout=10,
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            poll.until(
                lambda: client.get("/readyz") or True,
                what=f"the backend in {namespace} to answer through a port forward",
                timeout=timeout,
                interval=0.3,
                ignore=(httpx.HTTPError,),
                fail=lambda message: ReleaseError(
                    f"the backend in {namespace} does not answer through a port forward: {message}",
                    "is it Ready? invoke deploy.status",
                ),
            )
            yield client
    finally:
        stop_port_forward(forward)


def stop_port_forward(forward) -> None:
    """Stop a kr8s port forward, whose stop() can lose a race it has no part in.

    kr8s' PortForward.stop() closes the forward's asyncio server from this thread while the
    forward's own loop may be detaching the connection httpx just closed; both then call the
    server's _wakeup() and the second raises TypeError ('NoneType' object is not iterable,
    seen once in CI after a backup had succeeded). The server is closed either way (its
    sockets are gone before the race), so that one error is not the caller's failure.
    """
    with contextlib.suppress(TypeError):
        forward.stop()


def _checked(response: httpx.Response, what: str) -> httpx.Response:
    if response.status_code >= 300:
        raise ReleaseError(f"{what}: HTTP {response.status_code}: {response.text.strip()[:200]}")
    return response


def archive_bytes(meta: dict, config: bytes, audit: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in (
            ("backup.json", json.dumps(meta, indent=2).encode() + b"\n"),
            ("config.json", config),
            ("audit.json", audit),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(meta["epoch"])
            info.mode = 0o600
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def read_archive(path: Path) -> tuple[dict, bytes]:
    """(backup.json, config.json bytes) of an archive, or a ConfigError saying what is wrong."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            names = set(tar.getnames())
            missing = [m for m in MEMBERS if m not in names]
            if missing:
                raise ConfigError(f"{path} is not a TraderAdmin backup: lacks {', '.join(missing)}")
            meta = json.loads(tar.extractfile("backup.json").read())  # type: ignore[union-attr]
            config = tar.extractfile("config.json").read()  # type: ignore[union-attr]
    except (OSError, tarfile.TarError, ValueError) as exc:
        raise ConfigError(f"cannot read backup {path}: {exc}") from exc
    if "etag" not in meta:
        raise ConfigError(f"{path}: backup.json has no etag")
    return meta, config


def backup(api: kr8s.Api, namespace: str, directory: Path, token_secret: str) -> Path:
    """Write a timestamped archive of the configuration and audit log into directory."""
    with backend_api(api, namespace, api_token(api, namespace, token_secret)) as client:
        config = _checked(client.get("/api/v1/config"), "GET /api/v1/config")
        audit = _checked(client.get("/api/v1/audit", params={"limit": AUDIT_LIMIT}), "audit")
        version = client.get("/version").text.strip()
    now = datetime.now(UTC)
    meta = {
        "namespace": namespace,
        "etag": config.headers.get("etag"),
        "backend_version": version[:200],
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "epoch": int(now.timestamp()),
    }
    path = directory / f"traderadmin-backup-{now.strftime('%Y%m%dT%H%M%SZ')}.tar.gz"
    atomic.write_bytes(path, archive_bytes(meta, config.content, audit.content), 0o600)
    say(
        f"  configuration ETag {meta['etag']}, {len(audit.json().get('entries', []))} audit entries"
    )
    return path


def api_token(api: kr8s.Api, namespace: str, secret: str) -> str:
    try:
        data = kr8s_objects.Secret.get(secret, namespace=namespace, api=api).raw.get("data", {})
    except kr8s.NotFoundError as exc:
        raise ReleaseError(f"no Secret {namespace}/{secret}: cannot authorise the restore") from exc
    # One token per line while a token is being rotated: any of them is valid.
    lines = base64.b64decode(data["token"]).decode().split()
    if not lines:
        raise ReleaseError(f"Secret {namespace}/{secret} holds no token")
    return lines[0]


def restore(api: kr8s.Api, namespace: str, archive: Path, token_secret: str) -> str:
    """PUT the archived configuration back; verify the ETag equals the archived one."""
    meta, config = read_archive(archive)
    token = api_token(api, namespace, token_secret)
    with backend_api(api, namespace, token) as client:
        current = _checked(client.get("/api/v1/config"), "GET /api/v1/config").headers["etag"]
        if current != meta["etag"]:
            _checked(
                client.put(
                    "/api/v1/config",
                    content=config,
                    headers={
                        "If-Match": current,
                        "Content-Type": "application/json",
                    },
                ),
                "PUT /api/v1/config",
            )
        after = _checked(client.get("/api/v1/config"), "GET /api/v1/config").headers["etag"]
    if after != meta["etag"]:
        raise VerificationFailed(
            f"restored configuration has ETag {after}, the backup had {meta['etag']}",
            "the backend stored something else; compare GET /api/v1/config with config.json",
        )
    return after
