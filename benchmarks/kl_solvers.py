"""Which Kullback-Leibler solver gets there first: coordinate descent or MU.

``solver="auto"`` picks coordinate descent for the Kullback-Leibler loss
wherever it can run. This script is the evidence: for each data set and
start, both of the engine's KL solvers run for the same wall-time budget
from the same factors, and the table gives the time (and iterations) each
needs to get within 1 % and 0.1 % of the best objective either reached.

    python benchmarks/kl_solvers.py --data digits,poisson --rank 10 \
        --seconds 10
    python benchmarks/kl_solvers.py --data zipf --rank 20 --seconds 40 \
        --starts nndsvda,random1,random2

Data sets: ``digits`` (1,797 x 64), ``digits16`` (the same divided by 16),
``digits-csr`` (the same as CSR), ``poisson`` (5,000 x 500 dense Poisson
counts of a rank-10 mean), ``images`` (20,000 x 784 synthetic images),
``zipf-small`` (20,000 x 10,000 Zipf counts, CSR, 0.3 % non-zero) and
``zipf`` (50,000 x 20,000, 0.2 %, the counts of ``bench_performance.py``).
Starts: ``nndsvda`` (the estimators' default) or ``randomS`` (the random
init with seed S).

Wall time counts the solver calls only, as the estimators run them:
coordinate descent evaluates the objective at every iteration (it stops on
it), so one call is one iteration; the multiplicative updates every 10
iterations, so one call is 10. The objective for the table is evaluated
outside the timed part, after every call.
"""

import argparse
import warnings

import numpy as np
import scipy.sparse as sp

from _common import (budget_curve, dense_images, digits, first_hit,
                     machine_line, poisson_counts, zipf_counts)
from sknmfcluster import _init, _problems, _storage
from sknmfcluster._losses import Loss

warnings.filterwarnings("ignore")

#: Iterations per timed call, as the estimators check the objective.
CALL_ITERATIONS = {"cd": 1, "mu": 10}


DATA = {
    "digits": digits,
    "digits16": lambda: digits() / 16.0,
    "digits-csr": lambda: sp.csr_matrix(digits()),
    "poisson": lambda: poisson_counts(5_000, 500, 10),
    "images": lambda: dense_images(20_000, np.dtype(np.float64)),
    "zipf-small": lambda: zipf_counts(20_000, 10_000, density=0.003),
    "zipf": lambda: zipf_counts(50_000, 20_000, density=0.002),
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="digits",
                        help=f"comma-separated, from: {', '.join(DATA)}")
    parser.add_argument("--rank", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="wall-time budget per solver and start")
    parser.add_argument("--starts", default="nndsvda,random0,random1",
                        help="comma-separated: nndsvda or randomS")
    args = parser.parse_args()
    args.data = [name.strip() for name in args.data.split(",") if name.strip()]
    unknown = [name for name in args.data if name not in DATA]
    if unknown or not args.data:
        parser.error(f"--data: unknown {unknown}; choose from {list(DATA)}")
    args.starts = [s.strip() for s in args.starts.split(",") if s.strip()]
    for start in args.starts:
        if start != "nndsvda" and not (start.startswith("random")
                                       and start[6:].isdigit()):
            parser.error(f"--starts: expected nndsvda or randomS (S an "
                         f"integer seed), got {start!r}")
    return args


def initial(X, rank, start):
    """The factors of ``start``: NNDSVDa, or the random init of a seed."""
    if start == "nndsvda":
        return _init.initialize(X, rank, "nndsvda", np.random.RandomState(0))
    return _init.initialize(X, rank, "random",
                            np.random.RandomState(int(start[6:])))


def curve(Xp, W0, H0, solver, budget):
    """``(seconds, iterations, objective)`` after each timed call."""
    loss = Loss(1.0)

    def step(W, H, n):
        _problems.fit_plain(Xp, W, H, loss, max_iter=n, tol=0.0, solver=solver)
        return W, H

    step(W0.copy(), H0.copy(), 1)  # compile or load the kernels first
    return budget_curve(step, W0, H0, budget, CALL_ITERATIONS[solver],
                        lambda W, H: Xp.divergence(W, H, 1.0))


def cell(hit):
    return f"{hit[0]:.2f} s ({hit[1]} it)" if hit else "not reached"


def main():
    args = parse_args()
    print(machine_line())
    print(f"\nKL, rank {args.rank}, {args.seconds:g} s per solver and start; "
          "times to within 1 % and 0.1 % of the best objective of the two")
    print("\n| data | start | cd ms/it | cd to 1 % | cd to 0.1 % | cd final "
          "gap | mu ms/it | mu to 1 % | mu to 0.1 % | mu final gap | first "
          "to 0.1 % |")
    print("|---|---|---:|---|---|---:|---:|---|---|---:|---|")
    wins = {"cd": 0, "mu": 0, "neither": 0}
    for name in args.data:
        X = DATA[name]()
        Xp = _storage.prepare(X)
        for start in args.starts:
            W0, H0 = initial(Xp.to_scipy(), args.rank, start)
            points = {solver: curve(Xp, W0, H0, solver, args.seconds)
                      for solver in ("cd", "mu")}
            best = min(v for p in points.values() for _, _, v in p)
            cells, hits = [name, start], {}
            for solver, p in points.items():
                seconds, iters, last = p[-1]
                hits[solver] = first_hit(p, best * 1.001)
                cells += [f"{1e3 * seconds / iters:.1f}",
                          cell(first_hit(p, best * 1.01)),
                          cell(hits[solver]), f"{last / best - 1:.1e}"]
            reached = [s for s in hits if hits[s]]
            winner = min(reached, key=lambda s: hits[s][0]) if reached \
                else "neither"
            wins[winner] += 1
            cells.append(winner)
            print("| " + " | ".join(cells) + " |", flush=True)
    print(f"\nfirst to 0.1 %: cd {wins['cd']}, mu {wins['mu']}, neither "
          f"{wins['neither']} (of {sum(wins.values())} starts)")


if __name__ == "__main__":
    main()
