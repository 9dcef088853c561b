from traderadmin_orchestrator.health import HealthState


def ready_state(clock) -> HealthState:
    health = HealthState(5.0, clock=clock, window_seconds=15.0)
    health.record_backend_reachable()
    health.record_config_loaded()
    health.record_heartbeat_sent()
    health.record_tick([])
    return health


def test_alive_at_start_before_the_first_tick(fake_clock):
    health = HealthState(5.0, clock=fake_clock, window_seconds=15.0)
    assert health.liveness().ok
    fake_clock.advance(15.1)
    assert not health.liveness().ok


def test_liveness_follows_the_last_tick(fake_clock):
    health = ready_state(fake_clock)
    fake_clock.advance(14.9)
    assert health.liveness().ok
    fake_clock.advance(0.2)
    result = health.liveness()
    assert not result.ok
    assert result.body["status"] == "stalled"
    assert result.body["last_tick_age_s"] == 15.1
    health.record_tick([])
    assert health.liveness().ok


def test_not_ready_until_the_backend_answered_and_a_configuration_is_loaded(fake_clock):
    health = HealthState(5.0, clock=fake_clock)
    assert health.readiness().body["reason"] == "backend not contacted yet"
    health.record_backend_unreachable("ConnectError: refused")
    assert health.readiness().body["reason"] == "backend unreachable: ConnectError: refused"
    health.record_backend_reachable()
    assert health.readiness().body["reason"] == "no configuration loaded: no answer yet"
    health.record_config_error("config: expected a JSON object")
    assert "expected a JSON object" in health.readiness().body["reason"]
    health.record_config_loaded()
    result = health.readiness()
    assert result.ok
    assert result.body == {
        "status": "ready",
        "backend_reachable": True,
        "config_loaded": True,
        "heartbeats_sent": 0,
    }


def test_backend_loss_makes_it_unready_again(fake_clock):
    health = ready_state(fake_clock)
    assert health.readiness().ok
    health.record_backend_unreachable("timeout")
    assert not health.readiness().ok
    health.record_backend_reachable()
    assert health.readiness().ok


def test_a_stalled_loop_is_not_ready(fake_clock):
    health = ready_state(fake_clock)
    fake_clock.advance(16)
    assert health.readiness().body["reason"] == "main loop stalled"


def test_heartbeat_rejection_is_a_reason_but_a_transient_failure_is_not(fake_clock):
    health = ready_state(fake_clock)
    health.record_heartbeat_failed("HTTP 503")
    result = health.readiness()
    assert result.ok
    assert result.body["heartbeat_error"] == "HTTP 503"
    health.record_heartbeat_rejected("HTTP 401")
    assert health.readiness().body["reason"] == "backend rejected the heartbeat: HTTP 401"
    health.record_heartbeat_sent()
    assert health.readiness().ok


def test_status_lists_the_strategies(fake_clock):
    health = ready_state(fake_clock)
    health.record_tick([{"name": "a"}])
    status = health.status()
    assert status["strategies"] == [{"name": "a"}]
    assert status["ticks"] == 2
