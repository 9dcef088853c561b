"""Fixtures shared by the orchestrator tests; the doubles live in orchestrator_fakes.py."""

from collections.abc import Iterator

import pytest

from orchestrator_fakes import FakeBackend, FakeBackendServer, FakeClock


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake_backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def backend_server() -> Iterator[FakeBackendServer]:
    server = FakeBackendServer()
    server.start()
    yield server
    server.stop()
