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
