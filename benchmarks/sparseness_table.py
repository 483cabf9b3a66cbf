"""Target sparseness -> sparseness reached -> relative error -> fit time.

SparseNMF on the digits (1,797 x 64, ``load_digits``, offline) with 16
components, for several targets of ``sparseness_components`` and of
``sparseness_codes``, beside plain NMF (no target) and scikit-learn's
``NMF(solver="mu")`` with the same rank and stopping rule as a reference.

The relative error is ``reconstruction_err_ / ||X||_F``. Each configuration
is fitted once untimed first, so that Numba's compilation (cached on disk
after the first run) is not counted; the time is the median over
``--repeat`` fits. Printed as a Markdown table.

Run from the repository root::

    python benchmarks/sparseness_table.py
    python benchmarks/sparseness_table.py --repeat 3 --max-iter 300
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning

from sknmfcluster import SparseNMF
from sknmfcluster._projection import hoyer_sparseness_rows

COMPONENT_TARGETS = [0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
CODE_TARGETS = [0.3, 0.5, 0.7, 0.9]


def _sparseness_range(F):
    """Mean, min and max Hoyer sparseness of the rows where it is defined."""
    values = hoyer_sparseness_rows(np.asarray(F, dtype=np.float64))
    values = values[~np.isnan(values)]
    return values.mean(), values.min(), values.max()


def _timed_fit(make, X, repeat):
    """Fit once untimed (compilation), then ``repeat`` times; median time."""
    make().fit(X)
    times = []
    for _ in range(repeat):
        model = make()
        start = time.perf_counter()
        codes = model.fit_transform(X)
        times.append(time.perf_counter() - start)
    return model, codes, float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-components", type=int, default=16)
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    X = load_digits().data
    x_norm = np.linalg.norm(X)
    common = dict(n_components=args.n_components, max_iter=args.max_iter,
                  tol=args.tol, random_state=0)
    rows = []

    def add(label, target, make):
        model, codes, seconds = _timed_fit(make, X, args.repeat)
        H = model.components_
        s_H = _sparseness_range(H)
        s_W = _sparseness_range(codes)
        rows.append((label, target, s_H, s_W,
                     model.reconstruction_err_ / x_norm, model.n_iter_,
                     seconds))

    warnings.simplefilter("ignore", ConvergenceWarning)
    add("sklearn NMF(solver='mu')", "-",
        lambda: NMF(solver="mu", init="nndsvda", **common))
    add("SparseNMF, no target", "-", lambda: SparseNMF(**common))
    for target in COMPONENT_TARGETS:
        add("SparseNMF, sparseness_components", f"{target}",
            lambda t=target: SparseNMF(sparseness_components=t, **common))
    for target in CODE_TARGETS:
        add("SparseNMF, sparseness_codes", f"{target}",
            lambda t=target: SparseNMF(sparseness_codes=t, **common))

    print(f"digits {X.shape[0]} x {X.shape[1]}, {args.n_components} "
          f"components, max_iter={args.max_iter}, tol={args.tol}, "
          f"median of {args.repeat} fit(s) after one untimed fit\n")
    print("| model | target | components: mean (min-max) | codes: mean "
          "(min-max) | relative error | n_iter | fit time (s) |")
    print("|---|---|---|---|---|---|---|")
    for label, target, s_H, s_W, error, n_iter, seconds in rows:
        print(f"| {label} | {target} "
              f"| {s_H[0]:.3f} ({s_H[1]:.3f}-{s_H[2]:.3f}) "
              f"| {s_W[0]:.3f} ({s_W[1]:.3f}-{s_W[2]:.3f}) "
              f"| {error:.4f} | {n_iter} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
