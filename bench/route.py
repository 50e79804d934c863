"""Today's route: wall time of the route optimisation (`app.fieldwork.plans.route.optimize`,
in-process: the distance matrix, OR-Tools' PATH_CHEAPEST_ARC + guided local search within its
time limit, both trips evaluated) for 10, 20 and 30 stops in a 20 km × 20 km city, a third of
them with a planned time. Prints a table (p50, p95, max; distance saved).

    .venv/bin/python -m bench.route [--runs 7] [--seed 1]

The HTTP route adds its reads and the save (a few ms) to the same figure; the target is < 2 s
for 30 stops (the solver's limit is 1 s).
"""

import argparse
import random
import statistics
import time

from app.fieldwork.plans import route


def _day(rng: random.Random, stops: int) -> list[route.Stop]:
    day = []
    for n in range(stops):
        point = route.Point(31.1 + rng.random() * 0.18, 121.3 + rng.random() * 0.21)
        window = None
        if n % 3 == 0:  # an appointment somewhere in the day, ± 30 minutes
            at = rng.randrange(3600, 8 * 3600)
            window = (at - 1800, at + 1800)
        day.append(route.Stop(point, rng.choice([1200, 3600, 10800]) // 6, window))
    return day


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    model = route.Model()
    start = route.Point(31.19, 121.40)
    print(f"{'stops':>5} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'saved %':>8} {'late s':>7}")
    for stops in (10, 20, 30):
        times, saved, late = [], [], []
        for _ in range(args.runs):
            day = _day(rng, stops)
            began = time.perf_counter()
            before, after = route.optimize(model, start, None, day)
            times.append(time.perf_counter() - began)
            saved.append(100 * (1 - after.distance_m / before.distance_m))
            late.append(after.late_s)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        print(
            f"{stops:>5} {statistics.median(times):>7.3f} {p95:>7.3f} {max(times):>7.3f} "
            f"{statistics.median(saved):>8.1f} {statistics.median(late):>7.0f}"
        )


if __name__ == "__main__":
    main()
