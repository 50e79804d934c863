"""Today's route: the order of a day's visits that makes the trip shortest, keeping visits at a
planned time within their window (OR-Tools' routing solver; no database here).

No road network is available offline: a leg is the great-circle distance (haversine) × a detour
factor, driven at an average speed. Times are seconds after leaving `start`. A window's start is
hard (arriving early means waiting); its end is soft, at a high price per second late, so that a
day whose appointments cannot all be kept still gets a route (the lateness is reported).

The cost of a trip is its distance, plus its duration (waiting included) at the metres one would
drive in that time, plus the lateness: without windows, the shortest trip; with them, the one
that does not wait hours for an appointment when the other visits could be made meanwhile.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from app.core.geo import haversine_m

LATE_PENALTY = 100
"""The cost of one second late at a visit, in metres of trip (a minute late = 6 km more)."""
MAX_TIME_LIMIT_S = 1.0
"""The solver's search time for the largest days (30 stops answer within 2 s)."""


@dataclass(frozen=True)
class Point:
    lat: float
    lng: float


@dataclass(frozen=True)
class Stop:
    """A visit to route: where, how long it takes, and when it may start (seconds after
    leaving `start`: earliest and latest arrival), if it has a planned time."""

    point: Point
    service_s: int
    window: tuple[int, int] | None = None


@dataclass(frozen=True)
class Timing:
    leg_m: float
    arrival_s: int
    departure_s: int
    late_s: int


@dataclass(frozen=True)
class Route:
    order: list[int]
    """Indexes into the stops, in visiting order."""
    timings: list[Timing]
    distance_m: float
    """From `start` through every stop (to `end`, when given)."""
    duration_s: int
    """From leaving `start` to arriving at `end` (or finishing the last visit)."""
    late_s: int


@dataclass(frozen=True)
class Model:
    """Distances × detour factor at an average speed."""

    detour_factor: float = 1.3
    speed_kmh: float = 30.0

    def leg_m(self, a: Point, b: Point) -> float:
        return haversine_m(a.lat, a.lng, b.lat, b.lng) * self.detour_factor

    def travel_s(self, metres: float) -> float:
        return metres / (self.speed_kmh / 3.6)

    @property
    def metres_per_second(self) -> int:
        """The price of a second of the day, in metres (the solver's costs are integers)."""
        return max(1, round(self.speed_kmh / 3.6))

    def cost(self, trip: "Route") -> float:
        return (
            trip.distance_m + self.metres_per_second * trip.duration_s + LATE_PENALTY * trip.late_s
        )


def evaluate(
    model: Model, start: Point, end: Point | None, stops: Sequence[Stop], order: Sequence[int]
) -> Route:
    """The trip in this order: legs, arrivals (waiting for a window to open), lateness."""
    timings: list[Timing] = []
    here, clock, distance, late = start, 0.0, 0.0, 0
    for index in order:
        stop = stops[index]
        leg = model.leg_m(here, stop.point)
        arrival = clock + model.travel_s(leg)
        late_s = 0
        if stop.window is not None:
            arrival = max(arrival, float(stop.window[0]))
            late_s = max(0, math.ceil(arrival - stop.window[1]))
        departure = arrival + stop.service_s
        timings.append(Timing(leg, round(arrival), round(departure), late_s))
        here, clock, distance, late = stop.point, departure, distance + leg, late + late_s
    if end is not None:
        leg = model.leg_m(here, end)
        clock, distance = clock + model.travel_s(leg), distance + leg
    return Route(list(order), timings, distance, round(clock), late)


def time_limit_s(stops: int) -> float:
    """The search time: 40 ms a stop, from 0.1 s up to `MAX_TIME_LIMIT_S`."""
    return min(MAX_TIME_LIMIT_S, max(0.1, 0.04 * stops))


def solve(
    model: Model,
    start: Point,
    end: Point | None,
    stops: Sequence[Stop],
    time_limit: float | None = None,
) -> list[int]:
    """The visiting order the solver finds (PATH_CHEAPEST_ARC, then guided local search for
    `time_limit` seconds); `end` None is an open trip (it ends at the last visit)."""
    count = len(stops)
    if count <= 1:
        return list(range(count))
    points = [start, *(stop.point for stop in stops)]
    # Node 0: start; 1..count: the stops; count + 1: the end (free to reach when open).
    metres = [[round(model.leg_m(a, b)) for b in points] for a in points]
    to_end = [round(model.leg_m(p, end)) if end is not None else 0 for p in points]
    service = [0, *(stop.service_s for stop in stops)]
    end_node = count + 1

    def distance(i: int, j: int) -> int:
        if j == end_node:
            return to_end[i] if i != end_node else 0
        if i == end_node:
            return 0
        return metres[i][j]

    def travel(i: int, j: int) -> int:
        service_s = service[i] if i != end_node else 0
        return service_s + round(model.travel_s(distance(i, j)))

    manager = pywrapcp.RoutingIndexManager(count + 2, 1, [0], [end_node])
    routing = pywrapcp.RoutingModel(manager)

    def distance_callback(from_index: int, to_index: int) -> int:
        return distance(manager.IndexToNode(from_index), manager.IndexToNode(to_index))

    def time_callback(from_index: int, to_index: int) -> int:
        return travel(manager.IndexToNode(from_index), manager.IndexToNode(to_index))

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(distance_callback))
    windows = [stop.window for stop in stops if stop.window is not None]
    longest = max((max(row) for row in metres), default=0)
    horizon = (
        sum(service)
        + (count + 1) * round(model.travel_s(max(longest, *to_end)))
        + max((hi for _, hi in windows), default=0)
        + 86_400
    )
    routing.AddDimension(
        routing.RegisterTransitCallback(time_callback), horizon, horizon, True, "time"
    )
    clock = routing.GetDimensionOrDie("time")
    clock.SetSpanCostCoefficientForAllVehicles(model.metres_per_second)
    for node, stop in enumerate(stops, start=1):
        if stop.window is None:
            continue
        lo, hi = stop.window
        index = manager.NodeToIndex(node)
        clock.CumulVar(index).SetMin(max(0, lo))
        clock.SetCumulVarSoftUpperBound(index, max(0, hi), LATE_PENALTY)

    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    parameters.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    limit = time_limit if time_limit is not None else time_limit_s(count)
    parameters.time_limit.FromMilliseconds(max(1, round(limit * 1000)))
    solution = routing.SolveWithParameters(parameters)
    if solution is None:  # cannot happen with soft window ends; keep the given order
        return list(range(count))
    order: list[int] = []
    index = routing.Start(0)
    while not routing.IsEnd(index):
        node = manager.IndexToNode(index)
        if node != 0:
            order.append(node - 1)
        index = solution.Value(routing.NextVar(index))
    return order


def optimize(
    model: Model,
    start: Point,
    end: Point | None,
    stops: Sequence[Stop],
    time_limit: float | None = None,
) -> tuple[Route, Route]:
    """(the trip in the given order, the better trip): the solver's order unless the given
    one costs no more."""
    before = evaluate(model, start, end, stops, range(len(stops)))
    after = evaluate(model, start, end, stops, solve(model, start, end, stops, time_limit))
    return before, (after if model.cost(after) < model.cost(before) else before)
