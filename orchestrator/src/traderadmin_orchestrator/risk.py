"""Risk limits from the backend configuration.

The backend documents its limits as bounding "what all strategies together may do" and a zero
limit as "nothing allowed", so: max_position caps the sum of absolute positions over all
strategies, max_daily_loss caps the combined loss since UTC midnight (then every strategy is
flattened and halted until the next UTC day), and max_order_value caps each single order.
"""

from __future__ import annotations

import math


def position_limit(max_position: float | None, other_exposure: float) -> float | None:
    """What one strategy may hold, given the absolute positions all the others hold now."""
    if max_position is None:
        return None
    return max(0.0, max_position - other_exposure)


def clamp_order(
    position: float,
    target: float,
    price: float,
    *,
    max_position: float | None,
    max_order_value: float | None,
) -> float:
    """The signed order quantity moving `position` toward `target` within the limits.

    An order that only reduces exposure is never blocked by the position limit; the order-value
    limit shrinks any order to the largest size whose value fits (a zero limit: no orders).
    """
    if max_position is not None:
        target = max(-max_position, min(max_position, target))
    order = target - position
    if max_order_value is not None and price > 0:
        max_quantity = max_order_value / price
        if abs(order) > max_quantity:
            order = math.copysign(max_quantity, order)
    return order


def daily_loss_breached(daily_pnl: float, max_daily_loss: float | None) -> bool:
    """True once the day's combined P&L reached -max_daily_loss."""
    return max_daily_loss is not None and daily_pnl <= -max_daily_loss
