import httpx
import pytest

from traderadmin_orchestrator.health import HealthState
from traderadmin_orchestrator.probe_server import ProbeServer


@pytest.fixture
def probe(fake_clock):
    health = HealthState(5.0, clock=fake_clock, window_seconds=15.0)
    server = ProbeServer("127.0.0.1", 0, health, "1.2.3")
    server.start()
    host, port = server.address
    with httpx.Client(base_url=f"http://{host}:{port}", timeout=5) as client:
        yield health, client
    server.stop()


def test_healthz_is_200_while_ticking_and_503_when_stalled(probe, fake_clock):
    _, client = probe
    assert client.get("/healthz").status_code == 200
    fake_clock.advance(20)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "stalled"


def test_readyz_is_503_with_a_reason_then_200(probe):
    health, client = probe
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["reason"] == "backend not contacted yet"
    health.record_backend_reachable()
    health.record_config_loaded()
    assert client.get("/readyz").status_code == 200
    assert client.head("/readyz").status_code == 200


def test_version_and_unknown_paths(probe):
    _, client = probe
    assert client.get("/version").json()["version"] == "1.2.3"
    assert client.get("/version?verbose=1").status_code == 200
    assert client.get("/metrics").status_code == 404
    assert client.get("/status").json()["strategies"] == []


def test_a_taken_port_fails_at_construction(fake_clock):
    health = HealthState(5.0, clock=fake_clock)
    first = ProbeServer("127.0.0.1", 0, health, "1")
    try:
        with pytest.raises(OSError, match="in use"):
            ProbeServer("127.0.0.1", first.address[1], health, "1")
    finally:
        first.stop()
