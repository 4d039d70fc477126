"""Random search: every generation a fresh gaussian cloud around the starting point.

The baseline the real strategies must beat; it only remembers the best member seen.
"""

from __future__ import annotations

from dataclasses import dataclass

from evo.strategy import Strategy, StrategySettings


@dataclass(frozen=True)
class RandomSettings(StrategySettings):
    sigma: float = 1.0  # standard deviation of the samples around the start

    def validate(self):
        return [] if self.sigma > 0 else [("sigma", "must be > 0")]


class RandomSearch(Strategy):
    name = "random"
    Settings = RandomSettings
    settings: RandomSettings

    def _ask(self, rng):
        return self.init_params + self.settings.sigma * rng.standard_normal(
            (self.popsize, self.num_params))

    def _tell(self, params, fitness):
        pass
