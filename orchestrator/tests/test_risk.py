import pytest

from traderadmin_orchestrator.paper_account import PaperAccount
from traderadmin_orchestrator.risk import clamp_order, daily_loss_breached, position_limit


def test_order_is_clamped_to_the_position_limit():
    assert clamp_order(0, 50, 10.0, max_position=10, max_order_value=None) == 10
    assert clamp_order(0, -50, 10.0, max_position=10, max_order_value=None) == -10
    assert clamp_order(8, 50, 10.0, max_position=10, max_order_value=None) == 2


def test_reducing_an_oversized_position_is_allowed():
    # The limit was lowered to 3 while we held 8: the order brings us back within it.
    assert clamp_order(8, 8, 10.0, max_position=3, max_order_value=None) == -5


def test_order_value_limit_shrinks_the_order():
    assert clamp_order(0, 10, 100.0, max_position=None, max_order_value=250) == pytest.approx(2.5)
    assert clamp_order(0, -10, 100.0, max_position=None, max_order_value=250) == pytest.approx(-2.5)


def test_zero_limits_allow_nothing():
    assert clamp_order(0, 5, 10.0, max_position=0, max_order_value=None) == 0
    assert clamp_order(0, 5, 10.0, max_position=None, max_order_value=0) == 0
    assert daily_loss_breached(0.0, 0)


def test_no_limits_pass_the_target_through():
    assert clamp_order(1, 7, 10.0, max_position=None, max_order_value=None) == 6


def test_position_limit_is_shared_by_all_strategies():
    assert position_limit(10, other_exposure=7) == 3
    assert position_limit(10, other_exposure=12) == 0
    assert position_limit(None, other_exposure=12) is None


def test_daily_loss():
    assert not daily_loss_breached(-99.0, 100)
    assert daily_loss_breached(-100.0, 100)
    assert not daily_loss_breached(-1e9, None)


def test_paper_account_average_cost_and_realized_pnl():
    account = PaperAccount()
    account.fill(2, 100.0)
    account.fill(2, 110.0)
    assert account.position == 4
    assert account.average_price == pytest.approx(105.0)
    assert account.unrealized_pnl(120.0) == pytest.approx(60.0)
    account.fill(-3, 120.0)
    assert account.realized_pnl == pytest.approx(45.0)
    assert account.position == 1
    account.fill(-3, 100.0)  # flips to short 2 at 100
    assert account.realized_pnl == pytest.approx(40.0)
    assert account.position == -2
    assert account.average_price == 100.0
    assert account.total_pnl(90.0) == pytest.approx(60.0)
    account.flatten(90.0)
    assert account.position == 0
    assert account.realized_pnl == pytest.approx(60.0)
    assert account.fills == 5
