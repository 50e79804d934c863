"""Split arithmetic (pure): a value into shares that add up **exactly** to it.

* Each share is the value × its weight ÷ Σ weights, rounded **down** to the unit (a fen for
  money, a whole unit for counts); the remainder goes to the last child with a weight above 0
  (the last child when all weigh the same), so a child weighted 0 gets exactly 0.
* `even`: every child weighs 1. `weights`: given per child key (all present, none else, each
  ≥ 0, Σ > 0). `last_year`: the caller passes last year's actuals as the weights (all 0 is
  refused by the caller: no silent fallback to `even`).
"""

from collections.abc import Mapping, Sequence
from decimal import ROUND_DOWN, Decimal

CENT = Decimal("0.01")
UNIT = Decimal("1")
ZERO = Decimal("0")


class WeightsError(ValueError):
    """Weights that do not fit the children (the message says how)."""


def unit_of(money: bool) -> Decimal:
    """The smallest share: a fen for money, one for counts."""
    return CENT if money else UNIT


def shares(total: Decimal, weights: Sequence[Decimal], unit: Decimal) -> list[Decimal]:
    """`total` split by `weights` (≥ 0, Σ > 0): floors to `unit`, the remainder on the last
    child weighing more than 0. Σ of the result == total, exactly."""
    if not weights:
        raise WeightsError("there is nothing to split into")
    if any(w < 0 for w in weights):
        raise WeightsError("weights are 0 or more")
    whole = sum(weights, ZERO)
    if whole <= 0:
        raise WeightsError("the weights add up to 0")
    result = [(total * w / whole).quantize(unit, ROUND_DOWN) for w in weights]
    last = max(i for i, w in enumerate(weights) if w > 0)
    result[last] += total - sum(result, ZERO)
    return result


def even(count: int) -> list[Decimal]:
    return [UNIT] * count


def keyed_weights(keys: Sequence[str], given: Mapping[str, Decimal]) -> list[Decimal]:
    """The given weights in the children's order; every child present and nothing else."""
    missing = [k for k in keys if k not in given]
    unknown = sorted(set(given) - set(keys))
    if missing:
        raise WeightsError(f"weights are missing for {', '.join(missing[:10])}")
    if unknown:
        raise WeightsError(f"weights name no child: {', '.join(unknown[:10])}")
    return [given[k] for k in keys]
