"""Multiplicative updates under each beta-divergence: ours against scikit-learn.

Every beta other than 2 (Frobenius) and 1 (Kullback-Leibler, where
``solver="auto"`` is coordinate descent) is fitted by the multiplicative
updates, here and in scikit-learn. This script times one iteration of each,
as the estimators run it (``solver="mu"``, ``tol=0``, the objective every
10 iterations in both), on the same data from the same start: the slope of
the fit time over two values of ``max_iter``, best of ``--repeat`` (the
slope leaves out what a fit does once, such as :class:`SparseNMF`'s final
solve of the codes). The last column checks that both run the same
algorithm: the largest relative difference between the components that
the two ``non_negative_factorization`` functions return after the larger
``max_iter`` from that start.

    python benchmarks/beta_losses.py
    python benchmarks/beta_losses.py --data poisson --betas 0,1.5 --iters 5,25

Data: ``digits`` (1,797 x 64, plus 1 so that every beta can fit it),
``poisson`` (5,000 x 500 dense Poisson counts of a rank-10 mean, plus 1).
"""

import argparse
import warnings

import numpy as np

from _common import best_of, digits, fit_line, machine_line, poisson_counts

warnings.filterwarnings("ignore")

BETA_NAMES = {0.0: "itakura-saito", 1.0: "kullback-leibler"}


DATA = {"digits": lambda: digits() + 1.0,
        "poisson": lambda: poisson_counts(5_000, 500, 10) + 1.0}


def _floats(text, what):
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise SystemExit(f"--{what} takes comma-separated numbers, got {text!r}")


def per_iteration(make, X, start, iters, repeat):
    """Seconds per iteration: the slope of the fit time over ``iters``.

    ``start`` (W, H) is copied for every fit, so that both estimators begin
    from the same factors.
    """
    def fit(max_iter):
        W, H = (F.copy() for F in start)
        return make(max_iter).fit(X, W=W, H=H)

    fit(iters[0])  # compile (or load) the kernels outside the timing
    times = [best_of(lambda: fit(max_iter), repeat)[0] for max_iter in iters]
    return fit_line(iters, times)[0]


def components_gap(ours, theirs, X, start, options, max_iter):
    """Largest relative difference of the two functions' components."""
    H = [nnf(X, *(F.copy() for F in start), n_components=start[1].shape[0],
             max_iter=max_iter, **options)[1] for nnf in (ours, theirs)]
    return float(np.abs(H[0] - H[1]).max() / np.abs(H[1]).max())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="digits,poisson",
                        help=f"comma-separated, from {sorted(DATA)}")
    parser.add_argument("--betas", default="0,0.5,1,1.5,1.2",
                        help="comma-separated betas")
    parser.add_argument("--rank", type=int, default=10)
    parser.add_argument("--iters", default="10,40",
                        help="the two max_iter values of the slope")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    names = args.data.split(",")
    unknown = sorted(set(names) - set(DATA))
    if unknown:
        parser.error(f"unknown data {unknown}; choose from {sorted(DATA)}")
    betas = _floats(args.betas, "betas")
    iters = [int(v) for v in _floats(args.iters, "iters")]
    if len(iters) != 2 or iters[0] >= iters[1] or iters[0] < 1:
        parser.error("--iters takes two increasing positive numbers")
    if args.repeat < 1 or args.rank < 1:
        parser.error("--repeat and --rank must be at least 1")

    from sklearn.decomposition import NMF
    from sklearn.decomposition import non_negative_factorization as sk_nnf

    from _solvers import random_init
    from sknmfcluster import SparseNMF, non_negative_factorization

    print(machine_line())
    print(f"\nrank {args.rank}, multiplicative updates, the same random start, "
          f"per iteration = slope over max_iter {iters[0]} and {iters[1]}, "
          f"best of {args.repeat}\n")
    print("| data | beta | ours (ms/iter) | scikit-learn (ms/iter) | "
          "scikit-learn / ours | components, relative difference |")
    print("|---|---|---:|---:|---:|---:|")
    for name in names:
        X = DATA[name]()
        start = random_init(X, args.rank)
        for beta in betas:
            loss = BETA_NAMES.get(beta, beta)
            options = dict(beta_loss=loss, solver="mu", init="custom",
                           tol=0.0)
            ours = per_iteration(
                lambda it: SparseNMF(args.rank, max_iter=it, **options), X,
                start, iters, args.repeat)
            theirs = per_iteration(
                lambda it: NMF(args.rank, max_iter=it, **options), X, start,
                iters, args.repeat)
            gap = components_gap(non_negative_factorization, sk_nnf, X, start,
                                 options, max(iters))
            print(f"| {name} {X.shape[0]}x{X.shape[1]} | {loss} | "
                  f"{1e3 * ours:.2f} | {1e3 * theirs:.2f} | "
                  f"{theirs / ours:.2f} | {gap:.1e} |", flush=True)


if __name__ == "__main__":
    main()
