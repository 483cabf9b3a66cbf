#!/usr/bin/env python
"""Missing values (issue 15): what a masked fit predicts, and what it costs.

- ``planted``: a non-negative rank-6 ``W H`` (1,500 x 120) plus Gaussian
  noise, with 20 %, 50 % and 80 % of the entries hidden (NaN) at random. The
  error on the hidden entries, against the noiseless ``W H``, of our masked
  fit (``SparseNMF``, coordinate descent and multiplicative updates), of a
  reference masked fit written here in plain NumPy (masked multiplicative
  updates run to convergence, best of a few restarts), of our fit on the
  fully observed matrix, and of scikit-learn's ``NMF`` with the missing
  entries set to zero (and, for reference, to their column's mean).
- ``dense``: per-iteration time of the masked fit against the unmasked fit
  on the same synthetic 70,000 x 784 images, ranks 10 and 50, coordinate
  descent and multiplicative updates, at several shares hidden.
- ``csr``: per-iteration time of masked and unmasked fits of sparse counts
  at two densities, per stored entry.

Every ratio is measured in the same run, masked and unmasked fits timed
interleaved so that a change of load hits them alike.

    python benchmarks/bench_missing.py --quick      # 10,000 images, minutes
    python benchmarks/bench_missing.py              # the full sizes

See benchmarks/README.md for what each number means.
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import dense_images, machine_info, zipf_counts  # noqa: E402
from _report import fmt, heading, ratio, say, table  # noqa: E402

from sknmfcluster import SparseNMF, _init, _problems, _storage  # noqa: E402
from sknmfcluster._losses import Loss  # noqa: E402

warnings.filterwarnings("ignore", category=ConvergenceWarning)

SECTIONS = ("planted", "dense", "csr")
HIDDEN = (0.2, 0.5, 0.8)
TARGETS = {"planted": 1.05, "dense": 2.0}
CONFIGS = {
    "full": {"dense_n": 70_000, "csr_shape": (50_000, 20_000),
             "csr_densities": (0.002, 0.004), "iters": (1, 3), "repeat": 2,
             "restarts": 3, "ref_max_iter": 40_000},
    "quick": {"dense_n": 10_000, "csr_shape": (10_000, 5_000),
              "csr_densities": (0.002, 0.004), "iters": (1, 3), "repeat": 2,
              "restarts": 2, "ref_max_iter": 10_000},
}
#: Our fits in the planted problem: run to convergence like the reference
#: (``tol`` is the relative decrease of the objective per iteration).
CONVERGED = {"max_iter": 5000, "tol": 1e-7}
DEFAULTS = {"max_iter": 200, "tol": 1e-4}
#: The reference stops when 500 iterations lower its objective by less than
#: this share (about where its hidden-entry error stops moving, 4 digits).
REF_TOL = 1e-7
REF_CHECK = 500
EPSILON = 1e-12


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="10,000 images, smaller sparse counts, fewer "
                             "reference iterations")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help="comma-separated sections, from: "
                             + ", ".join(SECTIONS))
    args = parser.parse_args()
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {sorted(unknown)}")
    return args


def hide(X, share, seed):
    """Boolean mask of a ``share`` of the entries of X, drawn at random."""
    return np.random.default_rng(seed).random(X.shape) < share


# -- the planted problem ------------------------------------------------------
def planted(n=1500, m=120, rank=6, noise=0.25, seed=0):
    """Noiseless ``T = W H`` (uniform factors, mean entry 1.5) and ``T`` plus
    Gaussian noise of standard deviation ``noise``, clipped at zero."""
    rng = np.random.default_rng(seed)
    T = rng.random((n, rank)) @ rng.random((rank, m))
    X = np.maximum(T + noise * rng.standard_normal(T.shape), 0.0)
    return T, X


def reference_fit(X, observed, rank, seed, max_iter):
    """Masked Lee-Seung multiplicative updates in plain NumPy, to convergence.

    ``min 0.5 ||M * (X - W H)||_F^2`` with ``M`` the observed mask, from a
    random start of scikit-learn's scale; stops when ``REF_CHECK``
    iterations lower the objective by less than ``REF_TOL`` of it.
    """
    rng = np.random.default_rng(seed)
    Xo = np.where(observed, X, 0.0)
    M = observed.astype(np.float64)
    scale = np.sqrt(Xo.sum() / observed.sum() / rank)
    W = scale * rng.random((X.shape[0], rank))
    H = scale * rng.random((rank, X.shape[1]))
    previous = np.inf
    for it in range(1, max_iter + 1):
        W *= (Xo @ H.T) / np.maximum((M * (W @ H)) @ H.T, EPSILON)
        H *= (W.T @ Xo) / np.maximum(W.T @ (M * (W @ H)), EPSILON)
        if it % REF_CHECK == 0:
            objective = 0.5 * float(np.sum((M * (Xo - W @ H)) ** 2))
            if previous - objective <= REF_TOL * objective:
                break
            previous = objective
    objective = 0.5 * float(np.sum((M * (Xo - W @ H)) ** 2))
    return W @ H, objective, it


def hidden_error(completed, T, hidden):
    """``||completed - T||`` over the hidden entries, relative to ``||T||`` there."""
    return float(np.linalg.norm((completed - T)[hidden])
                 / np.linalg.norm(T[hidden]))


def ours(Xn, solver, settings):
    """Our masked fit's completion ``inverse_transform(fit_transform(Xn))``,
    its iterations and its objective ``0.5 ||M * (X - W H)||^2``."""
    model = SparseNMF(6, solver=solver, random_state=0, **settings)
    completed = model.inverse_transform(model.fit_transform(Xn))
    return completed, model.n_iter_, 0.5 * model.reconstruction_err_ ** 2


def sklearn_filled(X_filled, settings):
    model = NMF(6, random_state=0, **settings)
    return model.inverse_transform(model.fit_transform(X_filled))


def section_planted(cfg, results):
    say(heading("Planted problem: rank-6 W H (1,500 x 120) + noise, "
                "error on the hidden entries"))
    T, X = planted()
    say(f"noise: Gaussian, standard deviation 0.25 (the noiseless entries "
        f"have mean {T.mean():.2f}); relative noise on the entries "
        f"{np.linalg.norm(X - T) / np.linalg.norm(T):.3f}. Errors are "
        "||X_hat - W H|| / ||W H|| over the hidden entries.")
    say(f"ours: SparseNMF(6, random_state=0), completion "
        f"inverse_transform(fit_transform(X_nan)), converged = max_iter "
        f"{CONVERGED['max_iter']}, tol {CONVERGED['tol']:g}; defaults = "
        f"max_iter {DEFAULTS['max_iter']}, tol {DEFAULTS['tol']:g}. Reference: "
        f"masked MU in NumPy, best objective of {cfg['restarts']} random "
        f"restarts, each until {REF_CHECK} iterations lower the objective "
        f"by < {REF_TOL:g} of it (at most {cfg['ref_max_iter']}).\n")
    full, full_iter, _ = ours(X, "cd", CONVERGED)
    rows, out = [], []
    for share in HIDDEN:
        hidden = hide(X, share, seed=1)
        Xn = np.where(hidden, np.nan, X)
        start = time.perf_counter()
        with threadpool_limits(1):  # a busy 2-core machine: no BLAS spinning
            runs = [reference_fit(X, ~hidden, 6, seed, cfg["ref_max_iter"])
                    for seed in range(cfg["restarts"])]
        best = min(runs, key=lambda run: run[1])
        ref = hidden_error(best[0], T, hidden)
        ref_s = time.perf_counter() - start
        line = {"hidden": share, "reference": ref,
                "reference_iters": [run[2] for run in runs],
                "reference_objectives": [run[1] for run in runs],
                "full": hidden_error(full, T, hidden)}
        for solver in ("cd", "mu"):
            for tag, settings in (("", CONVERGED), ("-default", DEFAULTS)):
                completed, n_iter, objective = ours(Xn, solver, settings)
                line[solver + tag] = hidden_error(completed, T, hidden)
                line[solver + tag + "-iters"] = n_iter
                line[solver + tag + "-objective"] = objective
        line["sklearn-zero"] = hidden_error(
            sklearn_filled(np.nan_to_num(Xn), CONVERGED), T, hidden)
        means = np.nanmean(Xn, axis=0)
        line["sklearn-mean"] = hidden_error(
            sklearn_filled(np.where(hidden, means, X), CONVERGED), T, hidden)
        out.append(line)
        say(f"{share:.0%} hidden: reference {fmt(ref, 4)} (restarts' "
            f"iterations {line['reference_iters']}, objectives "
            + ", ".join(f"{o:.6g}" for o in line["reference_objectives"])
            + f"; {ref_s:.0f} s); ours converged: objective cd "
            f"{line['cd-objective']:.6g} in {line['cd-iters']} iterations, "
            f"mu {line['mu-objective']:.6g} in {line['mu-iters']}")
    for line in out:
        ref = line["reference"]
        rows.append([f"{line['hidden']:.0%}", fmt(ref, 4),
                     fmt(line["cd"], 4), ratio(line["cd"], ref),
                     fmt(line["mu"], 4), ratio(line["mu"], ref),
                     ratio(line["cd-default"], ref),
                     ratio(line["mu-default"], ref),
                     fmt(line["full"], 4), ratio(ref, line["full"]),
                     fmt(line["sklearn-zero"], 4),
                     ratio(line["sklearn-zero"], ref),
                     fmt(line["sklearn-mean"], 4),
                     ratio(line["sklearn-mean"], ref)])
    say("\n" + table(
        ["hidden", "reference", "ours cd", "cd / ref", "ours mu", "mu / ref",
         "cd default / ref", "mu default / ref", "fully observed",
         "ref / full", "sklearn, zeros", "zeros / ref", "sklearn, col. means",
         "means / ref"], rows))
    say(f"\n(fully observed: our fit of the complete noisy matrix, "
        f"{full_iter} iterations, evaluated on the same entries.)")
    results["planted"] = out


# -- cost -----------------------------------------------------------------------
def fit_time(storage, W0, H0, solver, max_iter):
    """Wall time of the engine's plain fit of ``max_iter`` iterations, tol 0."""
    W, H = W0.copy(), H0.copy()
    start = time.perf_counter()
    _problems.fit_plain(storage, W, H, Loss(2.0), max_iter=max_iter, tol=0.0,
                        solver=solver)
    return time.perf_counter() - start


def per_iteration(storages, W0, H0, solver, iters, repeat):
    """Per-iteration time (slope over ``iters``) of each storage, interleaved.

    Every (storage, max_iter) cell is the best of ``repeat`` fits; the
    storages take turns within each repeat.
    """
    best = {(name, n): np.inf for name in storages for n in iters}
    for _ in range(repeat):
        for n in iters:
            for name, storage in storages.items():
                t = fit_time(storage, W0, H0, solver, n)
                best[name, n] = min(best[name, n], t)
    a, b = iters
    return {name: (best[name, b] - best[name, a]) / (b - a)
            for name in storages}


def section_dense(cfg, results):
    n = cfg["dense_n"]
    say(heading(f"Cost, dense: synthetic images {n:,} x 784 float64, "
                "Frobenius"))
    X = dense_images(n, np.float64)
    storages = {"full": _storage.prepare(X)}
    for share in HIDDEN:
        hidden = hide(X, share, seed=2)
        storages[share] = _storage.prepare(np.where(hidden, np.nan, X))
        del hidden
    say(f"entries hidden at random (NaN): {', '.join(f'{s:.0%}' for s in HIDDEN)} "
        f"of the same matrix; engine alone (_problems.fit_plain, tol=0), "
        f"per-iteration time = slope over max_iter {cfg['iters']}, each "
        f"point the best of {cfg['repeat']}, masked and unmasked interleaved.\n")
    rows, out = [], []
    for rank in (10, 50):
        W0, H0 = _init.initialize(X, rank, "random", np.random.RandomState(0))
        for solver in ("cd", "mu"):
            times = per_iteration(storages, W0, H0, solver, cfg["iters"],
                                  cfg["repeat"])
            line = {"rank": rank, "solver": solver, "times": times}
            out.append(line)
            rows.append([rank, solver, fmt(1e3 * times["full"])]
                        + [f"{fmt(1e3 * times[s])} ({ratio(times[s], times['full'])})"
                           for s in HIDDEN])
            say(f"  rank {rank} {solver}: done")
    say("\n" + table(["rank", "solver", "unmasked ms/iter"]
                     + [f"{s:.0%} hidden ms/iter (/unmasked)" for s in HIDDEN],
                     rows))
    results["dense"] = out


def section_csr(cfg, results):
    n, m = cfg["csr_shape"]
    say(heading(f"Cost, CSR: Zipf counts {n:,} x {m:,}, rank 10, "
                "20 % of the stored entries missing"))
    rows, out = [], []
    for density in cfg["csr_densities"]:
        X = zipf_counts(n, m, density=density)
        Xn = X.copy()
        Xn.data[hide(Xn.data, 0.2, seed=3)] = np.nan
        storages = {"full": _storage.prepare(X), "masked": _storage.prepare(Xn)}
        W0, H0 = _init.initialize(X, 10, "random", np.random.RandomState(0))
        for solver in ("cd", "mu"):
            times = per_iteration(storages, W0, H0, solver, cfg["iters"],
                                  cfg["repeat"])
            line = {"density": density, "stored": X.nnz, "solver": solver,
                    "times": times}
            out.append(line)
            rows.append([f"{100 * X.nnz / (n * m):.2f}%", f"{X.nnz:,}", solver,
                         fmt(1e3 * times["full"]), fmt(1e3 * times["masked"]),
                         ratio(times["masked"], times["full"]),
                         fmt(1e9 * times["full"] / X.nnz),
                         fmt(1e9 * times["masked"] / X.nnz)])
    say(table(["density", "stored entries", "solver", "unmasked ms/iter",
               "masked ms/iter", "masked / unmasked", "unmasked ns/entry",
               "masked ns/entry"], rows))
    results["csr"] = out


# -- report ---------------------------------------------------------------------
def target_rows(results):
    rows = []
    for line in results.get("planted", []):
        for solver in ("cd", "mu"):
            value = line[solver] / line["reference"]
            rows.append([f"hidden error, ours / reference <= {TARGETS['planted']}",
                         f"{line['hidden']:.0%} hidden, {solver}",
                         fmt(value, 3, "x"),
                         "yes" if value <= TARGETS["planted"] else "NO"])
    for line in results.get("dense", []):
        for share in HIDDEN:
            value = line["times"][share] / line["times"]["full"]
            rows.append([f"per-iter masked / unmasked <= {TARGETS['dense']:g}",
                         f"dense rank {line['rank']} {line['solver']}, "
                         f"{share:.0%} hidden", fmt(value, 3, "x"),
                         "yes" if value <= TARGETS["dense"] else "NO"])
    csr = results.get("csr", [])
    for solver in ("cd", "mu"):
        lines = [line for line in csr if line["solver"] == solver]
        if len(lines) == 2:  # time grows no faster than the stored entries
            grows = lines[1]["times"]["masked"] / lines[0]["times"]["masked"]
            stored = lines[1]["stored"] / lines[0]["stored"]
            rows.append(["CSR masked time, denser / sparser <= stored "
                         "entries, denser / sparser", solver,
                         f"{fmt(grows, 3, 'x')} vs {fmt(stored, 3, 'x')}",
                         "yes" if grows <= stored else "NO"])
    return rows


def print_machine(info):
    pools = "; ".join(f"{p['internal_api']} {p['version']} ({p['num_threads']} "
                      "threads)" for p in info["threadpools"])
    say(f"{info['cpu_model']}, {info['cpus']} CPUs, {info['memory_gib']} GiB; "
        f"{info['platform']}\nPython {info['python']}, numpy {info['numpy']}, "
        f"scipy {info['scipy']}, scikit-learn {info['scikit-learn']}, numba "
        f"{info['numba']} ({info['numba_threads']} threads), sknmfcluster "
        f"{info['sknmfcluster']} at {info['git_commit']}\nthread pools: "
        f"{pools}\nload average at start: {info['load_average']}")
    if info["load_average"][0] > 0.5:
        say("WARNING: the machine is busy (load average > 0.5): absolute "
            "times are noisy; the ratios are measured interleaved.")


def main():
    args = parse_args()
    mode = "quick" if args.quick else "full"
    cfg = CONFIGS[mode]
    started = time.perf_counter()
    say(f"# sknmfcluster missing values benchmark ({mode} run; sections: "
        f"{', '.join(args.only)})")
    print_machine(machine_info())
    results = {}
    sections = {"planted": section_planted, "dense": section_dense,
                "csr": section_csr}
    for name in SECTIONS:
        if name in args.only:
            clock = time.perf_counter()
            sections[name](cfg, results)
            say(f"\n({name}: {time.perf_counter() - clock:.0f} s)")
    say(heading("Targets (issue 15)"))
    say(table(["target", "case", "measured", "met"], target_rows(results)))
    say(f"\nload average at end: {list(os.getloadavg())}; total "
        f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
