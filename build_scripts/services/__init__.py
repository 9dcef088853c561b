"""The deployable services built on the host: the Go backend and the orchestrator wheelhouse."""
