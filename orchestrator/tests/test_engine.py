import logging
import re
import threading
import time
from datetime import timedelta

import pytest

from orchestrator_fakes import FakeBackend, FakeClock
from traderadmin_orchestrator.engine import REPEAT_LOG_SECONDS, Orchestrator
from traderadmin_orchestrator.errors import (
    BackendProtocolError,
    BackendRejected,
    BackendUnavailable,
)
from traderadmin_orchestrator.health import HealthState

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def make(backend, clock, tick_seconds=1.0):
    health = HealthState(tick_seconds, clock=clock)
    orchestrator = Orchestrator(
        backend,
        health,
        instance="orch-test",
        tick_seconds=tick_seconds,
        wall_clock=clock.wall,
        clock=clock,
    )
    return orchestrator, health


def run_ticks(orchestrator, clock, ticks, seconds=1.0):
    for _ in range(ticks):
        orchestrator.tick()
        clock.advance(seconds)


def by_name(heartbeat):
    return {entry["name"]: entry for entry in heartbeat["strategies"]}


def test_same_configuration_gives_the_same_trades(fake_backend, fake_clock):
    first, _ = make(fake_backend, fake_clock)
    run_ticks(first, fake_clock, 150)
    other_backend, other_clock = FakeBackend(), FakeClock()
    second, _ = make(other_backend, other_clock)
    run_ticks(second, other_clock, 150)

    assert fake_backend.heartbeats == other_backend.heartbeats
    assert [r.as_dict() for r in first.reports()] == [r.as_dict() for r in second.reports()]
    fills = {report.name: report.fills for report in first.reports()}
    assert fills["btc-cross"] > 3
    assert fills["eth-revert"] > 3
    assert fills["off"] == 0


def test_heartbeat_matches_the_backend_contract(fake_backend, fake_clock):
    orchestrator, _ = make(fake_backend, fake_clock)
    run_ticks(orchestrator, fake_clock, 20)
    heartbeat = fake_backend.heartbeats[-1]
    assert heartbeat["instance"] == "orch-test"
    entries = by_name(heartbeat)
    assert set(entries) == {"btc-cross", "eth-revert", "off"}
    for entry in entries.values():
        assert set(entry) == {"name", "status", "position", "pnl", "last_tick"}
        assert entry["status"] in ("running", "idle", "error")
        assert isinstance(entry["position"], float)
        assert isinstance(entry["pnl"], float)
        assert RFC3339_UTC.match(entry["last_tick"]), entry["last_tick"]
    assert entries["btc-cross"]["status"] == "running"
    assert entries["off"] == {**entries["off"], "status": "idle", "position": 0.0, "pnl": 0.0}


def test_invalid_parameters_put_only_that_strategy_in_error(fake_backend, fake_clock):
    fake_backend.config["strategies"][0]["parameters"] = {"fast_window": 9, "slow_window": 3}
    orchestrator, _ = make(fake_backend, fake_clock)
    run_ticks(orchestrator, fake_clock, 15)
    entries = by_name(fake_backend.heartbeats[-1])
    assert entries["btc-cross"]["status"] == "error"
    assert entries["btc-cross"]["position"] == 0
    assert entries["eth-revert"]["status"] == "running"


def test_position_limit_holds_for_all_strategies_together(fake_backend, fake_clock):
    fake_backend.config["risk_limits"]["max_position"] = 3
    for strategy in fake_backend.config["strategies"]:
        strategy["enabled"] = True
        strategy["parameters"]["quantity"] = 2
    orchestrator, _ = make(fake_backend, fake_clock)
    for _ in range(200):
        orchestrator.tick()
        fake_clock.advance(1)
        assert sum(abs(r.position) for r in orchestrator.reports()) <= 3 + 1e-9
    assert any(r.position for r in orchestrator.reports())


def test_order_value_limit_caps_each_fill(fake_backend, fake_clock):
    fake_backend.config["risk_limits"]["max_order_value"] = 50.0
    orchestrator, _ = make(fake_backend, fake_clock)
    previous = {}
    for _ in range(100):
        orchestrator.tick()
        fake_clock.advance(1)
        for report in orchestrator.reports():
            change = abs(report.position - previous.get(report.name, 0.0))
            assert change * report.last_price <= 50.0 + 0.01
            previous[report.name] = report.position


def test_daily_loss_halts_everything_until_the_next_utc_day(fake_backend, fake_clock):
    fake_backend.config["risk_limits"]["max_daily_loss"] = 0.5
    orchestrator, _ = make(fake_backend, fake_clock)
    run_ticks(orchestrator, fake_clock, 300)
    entries = by_name(fake_backend.heartbeats[-1])
    assert {entry["status"] for entry in entries.values()} == {"idle"}
    assert all(entry["position"] == 0 for entry in entries.values())

    fake_clock.advance(timedelta(days=1).total_seconds())  # the next UTC day
    run_ticks(orchestrator, fake_clock, 1)
    assert by_name(fake_backend.heartbeats[-1])["btc-cross"]["status"] == "running"


def test_backend_outage_is_survived_and_trading_continues(fake_backend, fake_clock):
    orchestrator, health = make(fake_backend, fake_clock)
    run_ticks(orchestrator, fake_clock, 10)
    assert health.readiness().ok
    sent = len(fake_backend.heartbeats)

    fake_backend.fetch_error = BackendUnavailable("connection refused")
    run_ticks(orchestrator, fake_clock, 30)
    readiness = health.readiness()
    assert not readiness.ok
    assert "backend unreachable: connection refused" in readiness.body["reason"]
    assert health.liveness().ok  # the loop keeps ticking
    assert len(fake_backend.heartbeats) == sent  # no heartbeats while down
    assert orchestrator.reports()[0].last_tick == fake_clock.wall() - timedelta(seconds=1)

    fake_backend.fetch_error = None
    run_ticks(orchestrator, fake_clock, 1)
    assert health.readiness().ok
    assert len(fake_backend.heartbeats) == sent + 1


def test_unusable_configuration_keeps_the_last_good_one(fake_backend, fake_clock):
    orchestrator, health = make(fake_backend, fake_clock)
    run_ticks(orchestrator, fake_clock, 3)
    fake_backend.fetch_error = BackendProtocolError("config.strategies: expected a list")
    run_ticks(orchestrator, fake_clock, 3)
    assert health.readiness().ok
    assert "expected a list" in health.readiness().body["config_error"]
    assert len(orchestrator.reports()) == 3


@pytest.mark.parametrize(
    "strip",
    [
        lambda config: config.pop("risk_limits"),
        lambda config: config["risk_limits"].pop("max_daily_loss"),
        lambda config: config["risk_limits"].update(max_position=None),
    ],
    ids=["no risk_limits", "one limit missing", "one limit null"],
)
def test_configuration_without_complete_limits_is_refused(strip, fake_backend, fake_clock, caplog):
    strip(fake_backend.config)
    orchestrator, health = make(fake_backend, fake_clock)
    with caplog.at_level(logging.ERROR):
        run_ticks(orchestrator, fake_clock, 5)
    readiness = health.readiness()
    assert not readiness.ok
    assert "risk_limits" in readiness.body["reason"]
    assert orchestrator.reports() == []  # nothing runs, so nothing trades
    assert all(hb["strategies"] == [] for hb in fake_backend.heartbeats)
    [record] = [r for r in caplog.records if "not trading" in r.getMessage()]
    assert "risk_limits" in record.error  # the log says why


def test_limits_removed_later_keep_the_last_good_limits(fake_backend, fake_clock, caplog):
    fake_backend.config["risk_limits"]["max_position"] = 3
    orchestrator, health = make(fake_backend, fake_clock)
    run_ticks(orchestrator, fake_clock, 40)
    del fake_backend.config["risk_limits"]
    with caplog.at_level(logging.ERROR):
        run_ticks(orchestrator, fake_clock, 60)
    assert health.readiness().ok
    assert "risk_limits: missing" in health.readiness().body["config_error"]
    assert "keeping the last good one" in caplog.text
    exposure = sum(abs(report.as_dict()["position"]) for report in orchestrator.reports())
    assert 0 < exposure <= 3 + 1e-9  # still trading, still within the last good limit


def test_no_configuration_yet_is_not_ready(fake_backend, fake_clock):
    fake_backend.fetch_error = BackendRejected("GET /api/v1/config: HTTP 404", 404)
    orchestrator, health = make(fake_backend, fake_clock)
    run_ticks(orchestrator, fake_clock, 2)
    readiness = health.readiness()
    assert not readiness.ok
    assert readiness.body["reason"].startswith("no configuration loaded: GET /api/v1/config")


def test_rejected_heartbeat_makes_the_orchestrator_unready(fake_backend, fake_clock):
    fake_backend.heartbeat_error = BackendRejected("HTTP 401 (check ORCHESTRATOR_TOKEN)", 401)
    orchestrator, health = make(fake_backend, fake_clock)
    run_ticks(orchestrator, fake_clock, 2)
    assert "ORCHESTRATOR_TOKEN" in health.readiness().body["reason"]
    fake_backend.heartbeat_error = None
    run_ticks(orchestrator, fake_clock, 1)
    assert health.readiness().ok


def test_configuration_changes_are_applied(fake_backend, fake_clock):
    orchestrator, _ = make(fake_backend, fake_clock)
    run_ticks(orchestrator, fake_clock, 40)

    strategies = fake_backend.config["strategies"]
    strategies[0]["symbol"] = "DOGE-USD"  # new symbol: fresh book
    strategies[1]["enabled"] = False  # disabled: flattened and idle
    del strategies[2]  # removed: no longer reported
    run_ticks(orchestrator, fake_clock, 1)

    reports = {r.name: r for r in orchestrator.reports()}
    assert set(reports) == {"btc-cross", "eth-revert"}
    assert reports["btc-cross"].symbol == "DOGE-USD"
    assert reports["btc-cross"].fills == 0
    assert reports["eth-revert"].status == "idle"
    assert reports["eth-revert"].position == 0


def test_unexpected_errors_do_not_stop_the_loop(fake_backend, fake_clock, caplog):
    calls = []

    def broken_fetch():
        calls.append(1)
        raise RuntimeError("bug")

    fake_backend.fetch_configuration = broken_fetch
    orchestrator, _ = make(fake_backend, fake_clock, tick_seconds=0.01)
    stop = threading.Event()
    thread = threading.Thread(target=orchestrator.run, args=(stop,))
    thread.start()
    time.sleep(0.1)
    stop.set()
    thread.join(timeout=2)
    assert not thread.is_alive()
    assert len(calls) >= 2
    assert "tick failed unexpectedly" in caplog.text


def test_run_stops_promptly_and_reports_the_strategies_idle(fake_backend):
    health = HealthState(0.05)
    orchestrator = Orchestrator(fake_backend, health, instance="orch-test", tick_seconds=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=orchestrator.run, args=(stop,))
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    stop.set()
    thread.join(timeout=2)
    assert time.monotonic() - started < 1.5
    assert orchestrator.tick_index >= 3
    final = fake_backend.heartbeats[-1]
    assert {entry["status"] for entry in final["strategies"]} == {"idle"}


@pytest.mark.parametrize("tick_seconds", [0.5, 5.0])
def test_liveness_window_is_at_least_three_ticks(tick_seconds):
    health = HealthState(tick_seconds)
    assert health.liveness().body["window_s"] >= 3 * tick_seconds


def test_a_recurring_error_is_logged_once_until_it_changes(fake_backend, fake_clock, caplog):
    fake_backend.heartbeat_error = BackendRejected("HTTP 401", 401)
    orchestrator, _ = make(fake_backend, fake_clock)
    caplog.set_level("INFO")
    run_ticks(orchestrator, fake_clock, 5)
    rejected = [r for r in caplog.records if r.getMessage() == "backend rejected the heartbeat"]
    assert len(rejected) == 1
    fake_backend.heartbeat_error = None
    run_ticks(orchestrator, fake_clock, 1)
    assert "heartbeats delivered again" in caplog.text


def test_a_persisting_error_is_logged_again_every_minute(fake_backend, fake_clock, caplog):
    fake_backend.heartbeat_error = BackendRejected("HTTP 404", 404)
    orchestrator, _ = make(fake_backend, fake_clock)
    caplog.set_level("INFO")
    run_ticks(orchestrator, fake_clock, 3)
    fake_clock.advance(REPEAT_LOG_SECONDS)
    run_ticks(orchestrator, fake_clock, 3)
    rejected = [r for r in caplog.records if r.getMessage() == "backend rejected the heartbeat"]
    assert len(rejected) == 2


def test_configuration_available_again_is_logged(fake_backend, fake_clock, caplog):
    fake_backend.fetch_error = BackendRejected("GET /api/v1/config: HTTP 404", 404)
    orchestrator, _ = make(fake_backend, fake_clock)
    caplog.set_level("INFO")
    run_ticks(orchestrator, fake_clock, 2)
    assert "configuration available again" not in caplog.text
    fake_backend.fetch_error = None
    run_ticks(orchestrator, fake_clock, 1)
    assert "configuration available again" in caplog.text


def test_a_persisting_outage_is_logged_again_every_minute(fake_backend, fake_clock, caplog):
    fake_backend.fetch_error = BackendUnavailable("GET /api/v1/config: ConnectError")
    orchestrator, _ = make(fake_backend, fake_clock)
    caplog.set_level("INFO")
    run_ticks(orchestrator, fake_clock, 3)
    fake_clock.advance(REPEAT_LOG_SECONDS)
    run_ticks(orchestrator, fake_clock, 1)
    outage = [r for r in caplog.records if r.getMessage().startswith("backend unreachable")]
    assert len(outage) == 2
