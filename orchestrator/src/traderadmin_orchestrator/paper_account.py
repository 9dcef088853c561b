"""Paper-trading book for one strategy: fills at the given price, average-cost accounting."""

from __future__ import annotations

import math
from dataclasses import dataclass

# Float dust left by partial closes (0.1 + 0.2 - 0.3) must not count as an open position.
QUANTITY_EPSILON = 1e-9


@dataclass
class PaperAccount:
    position: float = 0.0
    average_price: float = 0.0
    realized_pnl: float = 0.0
    fills: int = 0

    def fill(self, quantity: float, price: float) -> None:
        """Buy (quantity > 0) or sell (quantity < 0) at `price`."""
        if abs(quantity) < QUANTITY_EPSILON:
            return
        self.fills += 1
        same_direction = self.position == 0 or math.copysign(1, quantity) == math.copysign(
            1, self.position
        )
        if same_direction:
            new_position = self.position + quantity
            self.average_price = (
                self.average_price * self.position + price * quantity
            ) / new_position
            self.position = new_position
            return
        closed = min(abs(quantity), abs(self.position))
        self.realized_pnl += closed * (price - self.average_price) * math.copysign(1, self.position)
        new_position = self.position + quantity
        if abs(new_position) < QUANTITY_EPSILON:
            self.position, self.average_price = 0.0, 0.0
        elif math.copysign(1, new_position) != math.copysign(1, self.position):
            self.position, self.average_price = new_position, price  # flipped: rest opens at price
        else:
            self.position = new_position

    def unrealized_pnl(self, price: float) -> float:
        return (price - self.average_price) * self.position

    def total_pnl(self, price: float) -> float:
        return self.realized_pnl + self.unrealized_pnl(price)

    def flatten(self, price: float) -> None:
        self.fill(-self.position, price)
