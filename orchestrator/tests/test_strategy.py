import pytest

from traderadmin_orchestrator.errors import InvalidParameters
from traderadmin_orchestrator.strategy import (
    MeanReversion,
    MovingAverageCrossover,
    build_strategy,
)


def test_crossover_reads_the_backend_parameter_names():
    strategy = build_strategy({"fast_window": 12, "slow_window": 26, "stop_loss_pct": 1.5})
    assert strategy == MovingAverageCrossover(fast=12, slow=26, quantity=1.0)


def test_crossover_accepts_short_names_and_quantity():
    assert build_strategy({"fast": 2, "slow": 4, "quantity": 3}) == MovingAverageCrossover(
        2, 4, 3.0
    )


def test_crossover_waits_for_a_full_slow_window():
    strategy = MovingAverageCrossover(fast=2, slow=4, quantity=1)
    assert strategy.target_position([1, 2, 3]) is None


def test_crossover_goes_long_on_an_uptrend_and_short_on_a_downtrend():
    strategy = MovingAverageCrossover(fast=2, slow=4, quantity=5)
    assert strategy.target_position([1, 2, 3, 4]) == 5
    assert strategy.target_position([4, 3, 2, 1]) == -5
    assert strategy.target_position([2, 2, 2, 2]) is None


@pytest.mark.parametrize(
    "parameters",
    [
        {"fast_window": 5, "slow_window": 5},
        {"fast_window": 0, "slow_window": 5},
        {"fast_window": 2.5, "slow_window": 5},
        {"slow_window": 1_000_000},
        {"quantity": 0},
        {"lookback": 1},
        {"lookback": 10, "entry_z": 1, "exit_z": 1},
    ],
)
def test_invalid_parameters_are_rejected(parameters):
    with pytest.raises(InvalidParameters):
        build_strategy(parameters)


def test_mean_reversion_is_chosen_by_its_parameter_names():
    strategy = build_strategy({"lookback": 20, "entry_z": 2.0, "exit_z": 0.5})
    assert strategy == MeanReversion(lookback=20, entry_z=2.0, exit_z=0.5)


def test_mean_reversion_fades_extremes_and_exits_near_the_mean():
    strategy = MeanReversion(lookback=5, entry_z=1.5, exit_z=0.3, quantity=2)
    assert strategy.target_position([10, 10, 10, 10, 20]) == -2  # spike up: short
    assert strategy.target_position([10, 10, 10, 10, 0]) == 2  # spike down: long
    assert strategy.target_position([9, 11, 9, 11, 10]) == 0  # back at the mean: flat
    assert strategy.target_position([10, 10, 10, 10]) is None  # warming up
    assert strategy.target_position([10, 10, 10, 10, 10]) is None  # no dispersion
