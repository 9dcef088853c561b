import httpx
import pytest

from traderadmin_orchestrator.backend_client import BackendClient
from traderadmin_orchestrator.backoff import Backoff, RetryPolicy
from traderadmin_orchestrator.errors import (
    BackendProtocolError,
    BackendRejected,
    BackendUnavailable,
)
from traderadmin_orchestrator.token_source import TokenSource

NO_WAIT = RetryPolicy(max_attempts=3, backoff=Backoff(base=0.01, cap=0.01))


def client_for(url: str, token: str | None = "s3cret", **kwargs) -> BackendClient:
    kwargs.setdefault("retry_policy", NO_WAIT)
    return BackendClient(url, TokenSource(token), **kwargs)


def test_fetches_configuration_and_revalidates_with_the_etag(backend_server):
    client = client_for(backend_server.url)
    first = client.fetch_configuration()
    assert [s.name for s in first.strategies] == ["btc-cross", "eth-revert", "off"]
    assert first.risk_limits.max_position == 10
    second = client.fetch_configuration()
    assert second is first
    conditional = backend_server.requests[-1][2]
    assert conditional["If-None-Match"] == backend_server.etag()

    backend_server.config["strategies"][0]["enabled"] = False
    assert client.fetch_configuration().strategies[0].enabled is False


def test_heartbeat_carries_the_bearer_token(backend_server):
    client = client_for(backend_server.url)
    entry = {"name": "a", "status": "idle", "position": 0.0, "pnl": 0.0, "last_tick": "x"}
    client.send_heartbeat("orch-0", [entry])
    assert backend_server.heartbeats == [{"instance": "orch-0", "strategies": [entry]}]
    method, path, headers = backend_server.requests[-1]
    assert (method, path) == ("POST", "/api/v1/heartbeat")
    assert headers["Authorization"] == "Bearer s3cret"
    assert headers["User-Agent"].startswith("traderadmin-orchestrator/")


def test_wrong_token_is_rejected_without_retries(backend_server):
    client = client_for(backend_server.url, token="wrong")
    with pytest.raises(BackendRejected, match=r"HTTP 401.*ORCHESTRATOR_TOKEN") as excinfo:
        client.send_heartbeat("orch-0", [])
    assert excinfo.value.status_code == 401
    assert len(backend_server.requests) == 1


def test_server_errors_are_retried_then_reported_unavailable(backend_server):
    backend_server.config_status = 503
    sleeps: list[float] = []
    client = client_for(backend_server.url, sleep=sleeps.append)
    with pytest.raises(BackendUnavailable, match="HTTP 503"):
        client.fetch_configuration()
    assert len(backend_server.requests) == 3
    assert len(sleeps) == 2


def test_refused_connection_is_unavailable():
    from orchestrator_fakes import free_port

    client = client_for(f"http://127.0.0.1:{free_port()}", sleep=lambda _s: None)
    with pytest.raises(BackendUnavailable, match="ConnectError"):
        client.fetch_configuration()


def test_a_timeout_is_unavailable_and_retried():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    client = client_for(
        "http://backend", transport=httpx.MockTransport(handler), sleep=lambda _s: None
    )
    with pytest.raises(BackendUnavailable, match="ReadTimeout"):
        client.fetch_configuration()
    assert len(calls) == 3


def test_recovers_when_a_retry_succeeds():
    limits = {"max_position": 1, "max_order_value": 1, "max_daily_loss": 1}
    answers = iter(
        [httpx.Response(502), httpx.Response(200, json={"risk_limits": limits, "strategies": []})]
    )
    client = client_for(
        "http://backend",
        transport=httpx.MockTransport(lambda request: next(answers)),
        sleep=lambda _s: None,
    )
    assert client.fetch_configuration().strategies == ()


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(200, text="<html>"), "not JSON"),
        (httpx.Response(200, json=[1, 2]), "expected a JSON object"),
        (httpx.Response(200, json={"strategies": [{"name": "x"}]}), r"strategies\[0\].symbol"),
        (
            httpx.Response(
                200,
                json={
                    "risk_limits": {"max_position": -1, "max_order_value": 1, "max_daily_loss": 1}
                },
            ),
            "must not be negative",
        ),
        (httpx.Response(200, json={"strategies": []}), "risk_limits: missing"),
        (
            httpx.Response(200, json={"risk_limits": None, "strategies": []}),
            "risk_limits: missing",
        ),
        (
            httpx.Response(200, json={"risk_limits": {"max_position": 1, "max_order_value": 1}}),
            r"risk_limits.max_daily_loss: missing",
        ),
        (
            httpx.Response(
                200,
                json={
                    "risk_limits": {"max_position": 1, "max_order_value": None, "max_daily_loss": 1}
                },
            ),
            r"risk_limits.max_order_value: missing",
        ),
        (httpx.Response(304), "no configuration is cached"),
    ],
)
def test_unusable_answers_are_protocol_errors(response, message):
    client = client_for("http://backend", transport=httpx.MockTransport(lambda request: response))
    with pytest.raises(BackendProtocolError, match=message):
        client.fetch_configuration()


def test_no_token_sends_no_authorization_header():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return httpx.Response(204)

    client = client_for("http://backend", token=None, transport=httpx.MockTransport(handler))
    client.send_heartbeat("orch-0", [])
    assert "Authorization" not in seen[0]


def test_token_file_is_reread_when_it_changes(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("one\n")
    source = TokenSource(token_file=token_file)
    assert source.current() == "one"
    replacement = tmp_path / "token.new"
    replacement.write_text("two\n")
    replacement.replace(token_file)  # a new inode, as a Secret update swaps files
    assert source.current() == "two"
    rotating = tmp_path / "token.rotating"
    rotating.write_text("# in use first, the other one after it\nthree\ntwo\n")
    rotating.replace(token_file)
    assert source.current() == "three"
    token_file.unlink()
    assert source.current() == "three"  # unreadable: keep the last good token


@pytest.fixture
def keep_alive_server():
    from orchestrator_fakes import FakeBackendServer

    server = FakeBackendServer(keep_alive=True)
    server.start()
    yield server
    server.stop()


def test_a_healthy_backend_keeps_one_connection(keep_alive_server):
    client = client_for(keep_alive_server.url)
    client.fetch_configuration()
    keep_alive_server.config["strategies"][0]["enabled"] = False
    client.fetch_configuration()
    first, second = keep_alive_server.peers
    assert first == second, "keep-alive should reuse the connection while answers are good"


def test_an_unexpected_answer_drops_the_connection(keep_alive_server):
    """A server answering 404 on a kept-alive connection must not be asked again on it."""
    keep_alive_server.next_config_statuses = [404]
    client = client_for(keep_alive_server.url)
    with pytest.raises(BackendRejected, match="HTTP 404"):
        client.fetch_configuration()
    configuration = client.fetch_configuration()
    assert configuration.strategies
    first, second = keep_alive_server.peers
    assert first != second, "the request after a 404 must use a new connection"


def test_a_server_error_drops_the_connection_before_retrying(keep_alive_server):
    keep_alive_server.next_config_statuses = [503]
    client = client_for(keep_alive_server.url, sleep=lambda _s: None)
    client.fetch_configuration()
    first, second = keep_alive_server.peers
    assert first != second


def test_the_error_names_the_answering_address_and_server(keep_alive_server):
    keep_alive_server.next_config_statuses = [404]
    keep_alive_server.server_header = "stranger/1.0"
    client = client_for(keep_alive_server.url)
    port = keep_alive_server.url.rsplit(":", 1)[1]
    with pytest.raises(BackendRejected) as excinfo:
        client.fetch_configuration()
    assert f"from 127.0.0.1:{port} (Server: stranger/1.0)" in str(excinfo.value)


def test_a_body_that_breaks_the_contract_drops_the_connection(keep_alive_server):
    keep_alive_server.config = {"strategies": "not a list", "risk_limits": {}}
    client = client_for(keep_alive_server.url)
    with pytest.raises(BackendProtocolError, match=r"config.strategies.*from 127\.0\.0\.1:"):
        client.fetch_configuration()
    keep_alive_server.config = {
        "strategies": [],
        "risk_limits": {"max_position": 1, "max_order_value": 1, "max_daily_loss": 1},
    }
    client.fetch_configuration()
    first, second = keep_alive_server.peers
    assert first != second
