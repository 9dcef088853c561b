"""The bearer token for the backend, from ORCHESTRATOR_TOKEN or a mounted secret file."""

from __future__ import annotations

import logging
from pathlib import Path

from traderadmin_orchestrator.errors import SettingsError
from traderadmin_orchestrator.settings import read_token_file

log = logging.getLogger(__name__)


class TokenSource:
    """Gives the current token; a token file is re-read when it changes (Secret rotation)."""

    def __init__(self, token: str | None = None, token_file: Path | None = None) -> None:
        self._token = token
        self._token_file = token_file
        self._file_stamp: tuple[float, int] | None = None

    def current(self) -> str | None:
        if self._token_file is not None:
            self._reload_if_changed(self._token_file)
        return self._token

    def _reload_if_changed(self, path: Path) -> None:
        try:
            stat = path.stat()  # follows the ..data symlink Kubernetes swaps on rotation
        except OSError as exc:
            log.warning("token file unreadable, keeping the last token", extra={"error": str(exc)})
            return
        stamp = (stat.st_mtime, stat.st_ino)
        if stamp == self._file_stamp:
            return
        try:
            self._token = read_token_file(path)
        except SettingsError as exc:
            log.warning("token file unreadable, keeping the last token", extra={"error": str(exc)})
            return
        if self._file_stamp is not None:
            log.info("token file changed, using the new token", extra={"path": str(path)})
        self._file_stamp = stamp
