"""Timing lines, long runs and times to a target objective.

For every solver of a problem: two ``max_iter`` values are timed (best of
``repeat``), the line through them gives the time per iteration (slope) and
the fixed cost (intercept); a long run records the objective against the
iteration count; the two together give the time to reach an objective within
a relative gap of the best one seen.
"""

import _common
import _solvers

#: Candidate (lo, hi) max_iter pairs for the slope, largest first.
ITER_PAIRS = ((10, 40), (5, 15), (3, 9), (2, 6), (1, 3))
#: Relative gaps to the best objective for the times to a target.
RELATIVE_GAPS = (0.01, 0.001)


def plan_iters(solver, budget, repeat):
    """The largest ``(lo, hi)`` pair of ``max_iter`` values whose timing fits
    in ``budget`` seconds, from two probe fits (1 and 3 iterations), and the
    probe times (reused as a repetition when the pair is (1, 3))."""
    probe = {1: solver.fit_time(1), 3: solver.fit_time(3)}
    slope = max((probe[3] - probe[1]) / 2.0, 1e-3 * probe[1])
    intercept = max(probe[1] - slope, 0.0)
    for lo, hi in ITER_PAIRS:
        if repeat * (2 * intercept + (lo + hi) * slope) <= budget:
            return (lo, hi), probe
    return ITER_PAIRS[-1], probe


def time_solvers(solvers, budget, repeat):
    """Best-of-``repeat`` fit time of each solver at two ``max_iter`` values
    (chosen per solver to fit its timing budget), interleaved so that a
    change of machine load hits every solver alike; then the line through
    the two points: slope = time per iteration, intercept = fixed cost."""
    pairs, times = {}, {}
    for solver in solvers:
        _solvers.warm_up(solver)
        pair, probe = plan_iters(solver, budget, repeat)
        pairs[solver.name] = pair
        times[solver.name] = {it: [probe[it]] if pair == (1, 3) else []
                              for it in pair}
    for _ in range(repeat):
        for position in range(2):
            for solver in solvers:
                it = pairs[solver.name][position]
                if len(times[solver.name][it]) < repeat:
                    times[solver.name][it].append(solver.fit_time(it))
    out = {}
    for solver in solvers:
        best = {it: min(ts) for it, ts in times[solver.name].items()}
        slope, intercept = _common.fit_line(list(best), list(best.values()))
        out[solver.name] = {"label": solver.label, "unit": solver.unit,
                            "iters": list(best),
                            "times": {str(k): v for k, v in times[solver.name].items()},
                            "slope": slope, "intercept": intercept}
    return out


def long_run_iters(line, budget, least, cap):
    """Iterations that the timing line says fit in ``budget`` seconds."""
    if line["slope"] <= 0:  # a noisy line: the wall-clock cap will stop it
        return cap
    fit = (budget - max(line["intercept"], 0.0)) / line["slope"]
    return int(min(cap, max(least, fit)))


def modelled_seconds(line, n_iter):
    """``fixed + n_iter * per-iteration`` from a timing line, never negative."""
    return max(line["intercept"], 0.0) + max(line["slope"], 0.0) * n_iter


def run_trajectories(solvers, timing, cfg, budget):
    """A long run per solver: the same modelled time ``budget`` for each.

    The chained solvers run as many iterations as their timing line allows
    in ``budget`` (per-checkpoint overheads are not charged to them);
    MiniBatchNMF, which cannot be chained, runs fits of 1, 2, 4, ... epochs
    until one takes ``budget``.
    """
    curves = {}
    for solver in solvers:
        if isinstance(solver, _solvers.SklearnMiniBatch):
            points = _common.checkpoints(cfg["mb_max_epochs"], 2.0, 2)
            curves[solver.name] = solver.trajectory(cfg["mb_max_epochs"], budget, points)
        elif solver.chainable:
            n_iter = long_run_iters(timing[solver.name], budget,
                                    cfg["long_min_iter"], cfg["long_max_iter"])
            curves[solver.name] = solver.trajectory(
                n_iter, 4 * budget + 2, _common.checkpoints(n_iter, step=1.15))
    return curves


def time_to_targets(solvers, timing, curves):
    """Iterations and seconds to within each gap of the best objective."""
    best_name, best = min(((name, min(c["objective"])) for name, c in curves.items()),
                          key=lambda item: item[1])
    out = {"best_objective": best, "best_solver": best_name}
    for solver in solvers:
        curve = curves.get(solver.name, curves["ours"])
        line = timing[solver.name]
        reached = {}
        for gap in RELATIVE_GAPS:
            its = _common.iterations_to(curve["iters"], curve["objective"],
                                        best * (1 + gap),
                                        interpolate=solver.name != "skl-mb")
            if its is None:
                last = curve["iters"][-1]
                seconds = (curve["seconds"][-1] if solver.name == "skl-mb"
                           else modelled_seconds(line, last))
                reached[str(gap)] = {"iters": None, "seconds": None,
                                     "not_within": seconds, "after_iters": last}
                continue
            if solver.name == "skl-mb":  # measured, at the grid's resolution
                seconds = curve["seconds"][curve["iters"].index(its)]
            else:
                seconds = modelled_seconds(line, its)
            reached[str(gap)] = {"iters": its, "seconds": seconds}
        out[solver.name] = reached
    return out
