"""The threads and compile sections of the benchmark."""

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import _common
import _solvers
from _report import fmt, heading, say, table


def _time_engine(engine, iters, repeat):
    """Slope and intercept of the engine, then CPU time over wall time."""
    best = {it: min(engine.fit_time(it) for _ in range(repeat)) for it in iters}
    slope, intercept = _common.fit_line(list(best), list(best.values()))
    wall, cpu = time.perf_counter(), time.process_time()
    engine.fit_time(iters[-1])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"slope": slope, "intercept": intercept, "cpu_per_wall": cpu / wall}


def section_threads(cfg, results):
    """The engine at 1 thread and at the default count, with BLAS (used by the
    H-step) at its default and at 1 thread: speed, CPU use, and whether the
    factors are the same whatever the thread count."""
    import numba
    from threadpoolctl import threadpool_limits

    say(heading("Threads: numba.set_num_threads (engine, dense float64, rank 10)"))
    X = _common.dense_images(cfg["dense_n"], "float64")
    problem = _solvers.Problem(X, *_solvers.random_init(X, 10), beta=2)
    engine = _solvers.Engine(problem)
    _solvers.warm_up(engine)
    default = numba.get_num_threads()
    runs, factors = [], {}
    try:
        for threads in sorted({1, default}):
            numba.set_num_threads(threads)
            for blas in (None, 1):
                with threadpool_limits(limits=blas, user_api="blas"):
                    run = _time_engine(engine, cfg["thread_iters"], cfg["repeat"])
                runs.append(dict(run, numba_threads=threads,
                                 blas_threads=blas or "default"))
            W, H = problem.W0.copy(), problem.H0.copy()
            _solvers.fit_factors(problem.Xp, W, H, 2, 3, "cd")
            factors[threads] = W
    finally:
        numba.set_num_threads(default)
    same = all(np.array_equal(factors[1], W) for W in factors.values())
    say(table(["numba threads", "BLAS threads", "per-iter ms", "CPU time / wall time"],
              [[r["numba_threads"], r["blas_threads"], fmt(1e3 * r["slope"]),
                fmt(r["cpu_per_wall"], 2)] for r in runs]))
    layer = _common.numba_threading_layer()
    say(f"\nthreading layer: {layer}; W after 3 iterations identical across "
        f"thread counts: {same}")
    results["threads"] = {"runs": runs, "identical": same, "layer": layer}


COMPILE_CODE = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
{imports}
t1 = time.perf_counter()
X = np.random.RandomState(0).rand(100, 20)
{fit}
t2 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "fit": t2 - t1}}))
"""
OURS = ("import sknmfcluster",
        "sknmfcluster.NMFClusterer(n_clusters=3, random_state=0).fit(X)")
SKLEARN = ("from sklearn.decomposition import NMF",
           "NMF(n_components=3, random_state=0, max_iter=200).fit(X)")


def _run_timed(code, cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, env=env, timeout=1800)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        return {"error": proc.stderr.strip()[-2000:]}
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]), process=wall)


def section_compile(cfg, results, variants):
    say(heading("Compile time: import + first fit on 100x20 (fresh processes)"))
    out = {}
    with tempfile.TemporaryDirectory(prefix="bench_numba_cache_") as cache:
        code = COMPILE_CODE.format(imports=OURS[0], fit=OURS[1])
        out["cold"] = _run_timed(code, cache)
        out["cached"] = _run_timed(code, cache)
        if cfg["compile_cached_runs"] > 1:
            out["cached_again"] = _run_timed(code, cache)
        if variants:
            out["variants"] = _compile_variants(cache)
    out["sklearn_nmf"] = _run_timed(
        COMPILE_CODE.format(imports=SKLEARN[0], fit=SKLEARN[1]), tempfile.gettempdir())
    rows = []
    for key, label in (("cold", "sknmfcluster, empty Numba cache"),
                       ("cached", "sknmfcluster, cached"),
                       ("cached_again", "sknmfcluster, cached (again)"),
                       ("sklearn_nmf", "sklearn NMF, for reference")):
        if key not in out:
            continue
        r = out[key]
        rows.append([label] + (["error"] * 4 if "error" in r else
                               [fmt(r["import"]), fmt(r["fit"]),
                                fmt(r["import"] + r["fit"]), fmt(r["process"])]))
    say(table(["run", "import s", "first fit s", "import+fit s", "process s"], rows))
    for key in ("cold", "cached", "sklearn_nmf"):
        if "error" in out[key]:
            say(f"\n{key} failed:\n{out[key]['error']}")
    if variants:
        say("\nfirst fit of each variant, empty cache then cached (s):")
        say(table(["variant", "cold s", "cached s"],
                  [[k, fmt(v[0]), fmt(v[1])] for k, v in out["variants"].items()]))
    results["compile"] = out


VARIANT_CODE = r"""
import json, time
import numpy as np, scipy.sparse as sp
import sknmfcluster
out = {}
base = np.random.RandomState(0).rand(100, 20)
base[base < 0.5] = 0
for storage in ("dense", "csr"):
    for dtype in ("float64", "float32"):
        for loss in ("frobenius", "kullback-leibler"):
            X = base.astype(dtype)
            X = sp.csr_matrix(X) if storage == "csr" else X
            t = time.perf_counter()
            sknmfcluster.NMFClusterer(3, beta_loss=loss, random_state=0).fit(X)
            out[f"{storage} {dtype} {loss}"] = time.perf_counter() - t
print(json.dumps(out))
"""


def _compile_variants(cache):
    times = []
    for _ in range(2):
        env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
        proc = subprocess.run([sys.executable, "-c", VARIANT_CODE], env=env,
                              capture_output=True, text=True, timeout=3600)
        times.append(json.loads(proc.stdout.strip().splitlines()[-1])
                     if proc.returncode == 0 else {})
    return {k: (times[0].get(k), times[1].get(k)) for k in times[0]}


#: RcppML 1.0's published time, the anchor of issue 14: 20 iterations of
#: rank-20 NMF of a 5,000 x 40,000 matrix with about 33 million non-zeros,
#: on a 56-thread Xeon.
RCPPML_SECONDS = 38.5
ANCHOR_SHAPE, ANCHOR_RANK, ANCHOR_ITERATIONS = (5_000, 40_000), 20, 20


def _anchor_fit(make, X):
    """Wall time of ``make().fit(X)`` and the fitted model."""
    model = make()
    start = time.perf_counter()
    model.fit(X)
    return time.perf_counter() - start, model


def section_anchor(cfg, results):
    """20 iterations of rank-20 NMF on counts of RcppML's benchmark size,
    ours (each solver, Frobenius and KL) and scikit-learn's, same data, same
    random start (``init="random"``, ``random_state=0``), ``tol=0``."""
    import warnings

    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning

    from sknmfcluster import SparseNMF
    from sknmfcluster._losses import Loss, auto_solver, beta_value

    n, m = cfg["anchor_shape"]
    say(heading(f"Anchor: RcppML's {RCPPML_SECONDS} s for {ANCHOR_ITERATIONS} "
                f"iterations of rank-{ANCHOR_RANK} NMF, 5,000 x 40,000, ~33 M "
                "non-zeros, 56 threads"))
    start = time.perf_counter()
    X = _common.low_rank_counts(n, m, density=cfg["anchor_density"],
                                rank=ANCHOR_RANK)
    say(f"counts {n:,} x {m:,}, {X.nnz:,} non-zeros (density "
        f"{X.nnz / (n * m):.3f}), float64 CSR, generated in "
        f"{time.perf_counter() - start:.0f} s "
        "(`_common.low_rank_counts`: 1 + Poisson of a random rank-20 mean)")
    common = {"init": "random", "random_state": 0, "tol": 0.0,
              "max_iter": ANCHOR_ITERATIONS}
    # a warm-up fit on a slice compiles what the timed fits run
    for beta in ("frobenius", "kullback-leibler"):
        for solver in ("cd", "mu"):
            SparseNMF(ANCHOR_RANK, beta_loss=beta, solver=solver, **common) \
                .fit(X[:200])
    rows, out = [], []
    for beta in ("frobenius", "kullback-leibler"):
        auto = auto_solver(Loss(beta_value(beta)))
        runs = [(f"ours {s}" + (" (auto)" if s == auto else ""), s == auto,
                 lambda s=s: SparseNMF(ANCHOR_RANK, beta_loss=beta, solver=s,
                                       **common)) for s in ("cd", "mu")]
        if cfg["anchor_sklearn"]:
            solver = "cd" if beta == "frobenius" else "mu"
            runs.append((f"scikit-learn {solver}", False,
                         lambda s=solver: NMF(ANCHOR_RANK, beta_loss=beta,
                                              solver=s, **common)))
        for name, default, make in runs:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                seconds, model = _anchor_fit(make, X)
            line = {"beta": beta, "who": name, "seconds": seconds,
                    "shape": (n, m),
                    "error": float(model.reconstruction_err_),
                    "default": default}
            out.append(line)
            rows.append([beta, name, fmt(seconds, 3, " s"),
                         fmt(RCPPML_SECONDS / seconds, 3, "x"),
                         f"{line['error']:.6g}"])
            say(f"  {beta} {name}: {seconds:.1f} s")
    say("\n" + table(["loss", "fit", f"{ANCHOR_ITERATIONS} iterations",
                      "RcppML's 38.5 s / ours", "reconstruction_err_"],
                     rows))
    say("\nThe RcppML time is its published number on its own machine "
        "(56 threads), not measured here; the others are measured in this "
        "run on this machine. An RcppML iteration solves each factor by "
        "NNLS; ours are one pass of the engine's solver (3 inner W-steps "
        "for Frobenius), so the errors after 20 iterations are given for "
        "context, not as a like-for-like comparison.")
    results["anchor"] = out
