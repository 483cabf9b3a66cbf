"""Peak memory of one fit, measured in a separate process.

The parent saves ``X``, ``W0`` and ``H0`` to a temporary directory and runs
this file as a script. The worker loads them, warms the solver up on a few
rows (Numba caches, lazy imports), then for each solver: collects garbage,
resets the kernel's peak-RSS mark (``/proc/self/clear_refs``), reads the RSS,
fits, and reads the peak RSS (``VmHWM``). Where the mark cannot be reset, a
thread samples the RSS every millisecond instead (it can miss a short peak).

``MALLOC_MMAP_THRESHOLD_`` is fixed in the worker's environment so that glibc
returns every large block to the system when it is freed; otherwise freed
memory of one fit could be reused by the next without showing in the RSS.
"""

import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "131072"}


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak():
    """Reset VmHWM to the current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class _Sampler(threading.Thread):
    """Fallback: the largest RSS seen by polling every millisecond."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak = _status_kib("VmRSS")
        self.running = True

    def run(self):
        while self.running:
            self.peak = max(self.peak, _status_kib("VmRSS"))
            time.sleep(0.001)


def _measure(fit):
    """Run ``fit()``; return (RSS before, peak RSS during) in bytes."""
    gc.collect()
    exact = _reset_peak()
    before = _status_kib("VmRSS")
    sampler = None if exact else _Sampler()
    if sampler:
        sampler.start()
    fit()
    if sampler:
        sampler.running = False
        sampler.join()
        peak = sampler.peak
    else:
        peak = _status_kib("VmHWM")
    return before * 1024, peak * 1024, exact


def _worker(spec):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _solvers

    folder = Path(spec["folder"])
    X = (sp.load_npz(folder / "X.npz").tocsr() if spec["sparse"]
         else np.load(folder / "X.npy"))
    W0, H0 = np.load(folder / "W0.npy"), np.load(folder / "H0.npy")
    problem = _solvers.Problem(X, W0, H0, spec["beta"])
    classes = {cls.name: cls for cls in (_solvers.Engine, _solvers.EngineMU,
                                         _solvers.EngineCD,
                                         _solvers.Estimator,
                                         _solvers.SklearnMU, _solvers.SklearnCD,
                                         _solvers.SklearnMiniBatch)}
    results = {}
    for name in spec["solvers"]:
        solver = classes[name](problem)
        _solvers.warm_up(solver)
        factors = (W0.copy(), H0.copy())
        before, peak, exact = _measure(
            lambda: solver._fit(*factors, spec["max_iter"]))
        results[name] = {"rss_before": before, "rss_peak": peak,
                         "extra": peak - before, "exact": exact}
    return results


def measure(X, W0, H0, beta, solver_names, max_iter, *, isolated=True,
            timeout=1800):
    """Peak extra RSS of each solver's fit, from fresh worker processes.

    ``isolated`` runs one process per solver; otherwise one process runs all
    of them in turn (cheaper, slightly less independent). Returns a dict
    solver name -> measurements (bytes), or an ``error`` entry.
    """
    env = dict(os.environ, **MALLOC_ENV)
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench_mem_") as tmp:
        folder = Path(tmp)
        if sp.issparse(X):
            sp.save_npz(folder / "X.npz", X, compressed=False)
        else:
            np.save(folder / "X.npy", X)
        np.save(folder / "W0.npy", W0)
        np.save(folder / "H0.npy", H0)
        groups = [[name] for name in solver_names] if isolated else [solver_names]
        for group in groups:
            spec = {"folder": tmp, "sparse": sp.issparse(X), "beta": beta,
                    "solvers": group, "max_iter": max_iter}
            proc = subprocess.run([sys.executable, __file__, json.dumps(spec)],
                                  capture_output=True, text=True, env=env,
                                  timeout=timeout)
            if proc.returncode != 0:
                for name in group:
                    results[name] = {"error": proc.stderr.strip()[-2000:]}
                continue
            results.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    return results


if __name__ == "__main__":
    print(json.dumps(_worker(json.loads(sys.argv[1]))))
