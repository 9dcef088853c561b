import subprocess
import sys

from traderadmin_orchestrator.price_feed import SyntheticPriceFeed


def path(symbol: str, ticks: int, feed: SyntheticPriceFeed | None = None) -> list[float]:
    feed = feed or SyntheticPriceFeed()
    return [feed.price(symbol, tick) for tick in range(ticks)]


def test_same_symbol_gives_the_same_path():
    assert path("BTC-USD", 200) == path("BTC-USD", 200)


def test_different_symbols_give_different_paths():
    assert path("BTC-USD", 50) != path("ETH-USD", 50)


def test_random_access_matches_sequential_access():
    feed = SyntheticPriceFeed()
    sequential = path("AAPL", 100)
    assert feed.price("AAPL", 99) == sequential[99]
    assert feed.price("AAPL", 10) == sequential[10]  # going back replays from the seed
    assert feed.price("AAPL", 50) == sequential[50]


def test_prices_are_positive_and_move():
    prices = path("EUR/USD", 500)
    assert all(price > 0 for price in prices)
    assert len(set(prices)) > 400


def test_path_is_the_same_in_another_process():
    code = (
        "from traderadmin_orchestrator.price_feed import SyntheticPriceFeed as F;"
        "f=F();print([f.price('BTC-USD', t) for t in range(30)])"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert other.strip() == str(path("BTC-USD", 30))
