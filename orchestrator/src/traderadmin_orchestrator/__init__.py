"""TraderAdmin orchestrator: paper-trades the backend's strategies and reports heartbeats."""

from importlib import metadata

from traderadmin_orchestrator._version import __version__ as _source_version

DISTRIBUTION_NAME = "traderadmin-orchestrator"


def installed_version() -> str:
    """The version from the installed package metadata, or the source tree's when not installed."""
    try:
        return metadata.version(DISTRIBUTION_NAME)
    except metadata.PackageNotFoundError:
        return _source_version


__version__ = installed_version()
