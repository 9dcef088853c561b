"""The orchestrator's errors; each fatal one carries the process exit code it maps to."""


class OrchestratorError(Exception):
    """Base class for errors raised by this package."""


class FatalError(OrchestratorError):
    """Stops the process; `cli.main` logs the message and exits with `exit_code`."""

    exit_code = 1


class SettingsError(FatalError):
    """An environment variable has an invalid value."""

    exit_code = 2


class BackendError(OrchestratorError):
    """A call to the backend did not succeed."""


class BackendUnavailable(BackendError):
    """The backend could not be reached or answered 5xx/429; worth retrying."""


class BackendRejected(BackendError):
    """The backend answered with a 4xx status; retrying the same request will not help."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class BackendProtocolError(BackendError):
    """The backend answered 2xx with a body that does not match the API contract."""


class InvalidParameters(OrchestratorError):
    """A strategy's parameters cannot drive the strategy (e.g. fast window >= slow window)."""
