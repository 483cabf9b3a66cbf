#!/usr/bin/env python
"""Streaming (``batch_size`` on a memory-mapped file) and Dask, measured in one run.

Issue 13's targets on 1,000,000 x 784 float32 synthetic images (3.1 GB,
written once to a ``.npy`` file): a fit with ``batch_size`` on the
memory-mapped file needs memory bounded by the batch (plus the n x k codes
it returns) and reaches an objective within 1 % of the in-memory fit's after
the same number of passes over X; a fit on a Dask array of the same file, on
a ``LocalCluster`` of two single-threaded workers, completes with each
worker's peak memory bounded by a few chunks and the factors of the in-memory
fit. Every fit runs in a fresh process, whose memory is sampled.

    python benchmarks/bench_streaming.py --quick            # a few minutes
    python benchmarks/bench_streaming.py --data-dir /big/disk --out full.json

See benchmarks/README.md for what each number means.
"""

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _common  # noqa: E402
import _memory  # noqa: E402
from _report import fmt, heading, say, table  # noqa: E402

CONFIGS = {
    "full": {"n_samples": 1_000_000, "batch_size": 10_000, "chunk_rows": 50_000,
             "passes": 10, "exact_rows": 50_000},
    "quick": {"n_samples": 100_000, "batch_size": 5_000, "chunk_rows": 10_000,
              "passes": 10, "exact_rows": 10_000},
}
#: Targets of issue 13 (see the README for their exact meaning).
TARGETS = {"objective_gap": 0.01, "batch_copies": 4, "codes_copies": 4,
           "worker_chunks": 4, "equal_float32": 1e-4, "equal_float64": 1e-9}
RANK = 10
SIDE = 28
N_CLASSES = 10
GEN_BLOCK = 10_000  # rows per generator block: the data do not depend on n
GEN_VERSION = 1
SAMPLE_EVERY = 0.002  # seconds between two RSS samples
ITERATION_LINE = re.compile(r"Iteration\s+(\d+)\s+objective\s+(\S+).*elapsed "
                            r"([0-9.]+)s")


# -- data ---------------------------------------------------------------------
def _image_block(index, protos, parts, dtype):
    """Rows ``index * GEN_BLOCK ...`` of the data, and their classes.

    Each row is its class prototype (a few Gaussian strokes) at a random
    intensity, plus a sparse mix of 40 smaller stroke parts (the variation
    within a class) and Gaussian noise, shifted down and clipped to [0, 1]
    so that most pixels are exactly zero, as in MNIST.
    """
    rng = np.random.default_rng([GEN_VERSION, index])
    labels = rng.integers(0, N_CLASSES, GEN_BLOCK)
    amplitude = rng.uniform(0.6, 1.2, GEN_BLOCK)
    codes = rng.gamma(2.0, 0.2, (GEN_BLOCK, len(parts)))
    codes *= rng.random(codes.shape) < 0.1
    rows = amplitude[:, None] * protos[labels] + codes @ parts
    rows += 0.06 * rng.standard_normal(rows.shape)
    rows -= 0.1
    np.clip(rows, 0.0, 1.0, out=rows)
    return rows.astype(dtype), labels.astype(np.int8)


def write_data(folder, n_samples):
    """``X.npy`` (n x 784 float32), ``y.npy`` and a custom start
    ``W0.npy``, ``H0.npy`` (scikit-learn's random init: uniform times
    ``sqrt(mean(X) / k)``), written block by block: generation never holds
    more than one block. Reused when the folder already has them."""
    meta = {"n_samples": n_samples, "n_features": SIDE * SIDE,
            "dtype": "float32", "version": GEN_VERSION, "rank": RANK}
    stamp = folder / "meta.json"
    if stamp.exists() and json.loads(stamp.read_text()) == meta:
        say(f"reusing the data in {folder}")
        return False
    need = n_samples * (SIDE * SIDE + RANK) * 4 * 1.05
    free = shutil.disk_usage(folder).free
    if free < need:
        raise SystemExit(f"{folder} has {free / 2**30:.1f} GiB free; the data "
                         f"need {need / 2**30:.1f} GiB. Use --data-dir.")
    rng = np.random.default_rng([GEN_VERSION, 10**9])
    protos = _common._stroke_atoms(N_CLASSES, SIDE, rng)
    parts = 0.5 * _common._stroke_atoms(40, SIDE, rng)
    X = np.lib.format.open_memmap(folder / "X.npy", mode="w+", dtype=np.float32,
                                  shape=(n_samples, SIDE * SIDE))
    y = np.empty(n_samples, dtype=np.int8)
    total = 0.0
    for index, start in enumerate(range(0, n_samples, GEN_BLOCK)):
        stop = min(n_samples, start + GEN_BLOCK)
        rows, labels = _image_block(index, protos, parts, np.float32)
        X[start:stop], y[start:stop] = rows[:stop - start], labels[:stop - start]
        total += float(rows[:stop - start].sum(dtype=np.float64))
    X.flush()
    del X
    np.save(folder / "y.npy", y)
    scale = np.sqrt(total / (n_samples * SIDE * SIDE) / RANK)
    rng = np.random.default_rng([GEN_VERSION, 10**9 + 1])
    np.save(folder / "H0.npy", (scale * rng.random((RANK, SIDE * SIDE))
                                ).astype(np.float32))
    W0 = np.lib.format.open_memmap(folder / "W0.npy", mode="w+",
                                   dtype=np.float32, shape=(n_samples, RANK))
    for start in range(0, n_samples, GEN_BLOCK):
        stop = min(n_samples, start + GEN_BLOCK)
        W0[start:stop] = scale * rng.random((stop - start, RANK))
    W0.flush()
    del W0
    stamp.write_text(json.dumps(meta))
    return True


def npy_layout(path):
    """(shape, dtype, offset of the data) of a ``.npy`` file."""
    mapped = np.load(path, mmap_mode="r")
    return mapped.shape, mapped.dtype, mapped.offset


def read_rows(path, start, stop, dtype=None):
    """Rows ``start:stop`` of a ``.npy`` file read into memory (no mapping):
    what a Dask task does on its worker."""
    shape, stored, offset = npy_layout(path)
    rows = np.fromfile(path, dtype=stored, count=(stop - start) * shape[1],
                       offset=offset + start * shape[1] * stored.itemsize)
    rows = rows.reshape(stop - start, shape[1])
    return rows if dtype is None else rows.astype(dtype)


def dask_array(path, chunk_rows, n_rows=None, dtype=None):
    """The file as a Dask array whose tasks read their own rows on the
    workers: only the path travels, never the data. (``da.from_array`` of a
    memory-mapped array would put the whole array into the task graph.)"""
    import dask.array as da

    shape, stored, _ = npy_layout(path)
    n = shape[0] if n_rows is None else n_rows
    sizes = tuple(min(chunk_rows, n - a) for a in range(0, n, chunk_rows))
    return da.map_blocks(_read_block, path=str(path), dtype=np.dtype(
        stored if dtype is None else dtype), chunks=(sizes, (shape[1],)),
        meta=np.empty((0, 0), dtype=stored if dtype is None else dtype),
        as_dtype=dtype)


def _read_block(path, as_dtype, block_info=None):
    (start, stop), _ = block_info[None]["array-location"]
    return read_rows(path, start, stop, as_dtype)


# -- memory -------------------------------------------------------------------
def proc_status(pid="self"):
    """VmRSS, RssAnon, RssFile and VmHWM of a process, in bytes."""
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return {key: int(fields[key].split()[0]) * 1024
            for key in ("VmRSS", "RssAnon", "RssFile", "VmHWM")}


class Sampler(threading.Thread):
    """Largest RSS and anonymous RSS of some processes, every ``SAMPLE_EVERY`` s.

    The anonymous RSS is the memory the process itself allocated; the RSS
    also counts the pages of mapped files (a memory-mapped X), which are
    the kernel's page cache and can be dropped at any time.
    """

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids = list(pids)
        self.base = {pid: proc_status(pid) for pid in self.pids}
        self.peak = {pid: dict(status) for pid, status in self.base.items()}
        self.stop_event = threading.Event()

    def run(self):
        while not self.stop_event.is_set():
            self.sample()
            time.sleep(SAMPLE_EVERY)

    def sample(self):
        for pid in self.pids:
            try:
                now = proc_status(pid)
            except (OSError, KeyError):
                continue
            for key in ("VmRSS", "RssAnon"):
                self.peak[pid][key] = max(self.peak[pid][key], now[key])

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.join()
        self.sample()

    def report(self, pid):
        """Before, peak and peak extra of the RSS and of its anonymous part."""
        base, peak = self.base[pid], self.peak[pid]
        try:
            hwm = proc_status(pid)["VmHWM"]
        except (OSError, KeyError):
            hwm = 0
        rss = max(peak["VmRSS"], hwm)
        return {"rss_before": base["VmRSS"], "rss_peak": rss,
                "rss_extra": rss - base["VmRSS"],
                "anon_before": base["RssAnon"], "anon_peak": peak["RssAnon"],
                "anon_extra": peak["RssAnon"] - base["RssAnon"]}


# -- worker processes -----------------------------------------------------------
def _iteration_times(output):
    """Per-pass seconds and objectives from the engine's ``verbose=2`` lines."""
    found = [(int(a), float(b), float(c))
             for a, b, c in ITERATION_LINE.findall(output)]
    elapsed = [0.0] + [c for _, _, c in found]
    return {"seconds": list(np.diff(elapsed)),
            "objective": [b for _, b, _ in found]}


def _oracle(X, W, H, block=GEN_BLOCK):
    """``0.5 ||X - W H||_F^2`` in float64, block by block."""
    H = np.asarray(H, dtype=np.float64)
    total = 0.0
    for start in range(0, X.shape[0], block):
        rows = np.asarray(X[start:start + block], dtype=np.float64)
        total += float(((rows - W[start:start + block] @ H) ** 2).sum())
    return 0.5 * total


def _timed_fit(model, X, W0, H0):
    """``fit_transform`` with its ``verbose=2`` output parsed; wall time."""
    buffer = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(buffer):
        codes = model.fit_transform(X, W=W0, H=H0)
    seconds = time.perf_counter() - start
    return codes, seconds, _iteration_times(buffer.getvalue())


def worker_fit(spec):
    """One fit of NMFClusterer in this fresh process: memory, times, objective.

    ``spec["mode"]``: ``"ram"`` (X read into memory first), ``"mmap"`` (X
    memory-mapped, fitted without batches) or ``"batches"`` (memory-mapped,
    ``batch_size``).
    """
    from sknmfcluster import NMFClusterer, clustering_accuracy

    folder = Path(spec["folder"])
    X = np.load(folder / "X.npy", mmap_mode=None if spec["mode"] == "ram" else "r")
    W0, H0 = np.load(folder / "W0.npy", mmap_mode="r"), np.load(folder / "H0.npy")
    NMFClusterer(RANK, method="nmf", max_iter=2, tol=0,
                 batch_size=spec["batch_size"] and 500).fit(
        np.asarray(X[:1000]))  # Numba's cache and lazy imports, untimed
    model = NMFClusterer(RANK, method="nmf", init="custom", tol=0,
                         max_iter=spec["passes"], batch_size=spec["batch_size"],
                         verbose=2)
    with Sampler([os.getpid()]) as sampler:
        codes, seconds, passes = _timed_fit(model, X, W0, H0)
    out = {"memory": sampler.report(os.getpid()), "fit_s": seconds,
           "passes": passes, "n_iter": int(model.n_iter_),
           "reconstruction_err": float(model.reconstruction_err_)}
    if spec["evaluate"]:
        out["objective"] = _oracle(X, codes, model.components_)
        y = np.load(folder / "y.npy")
        out["accuracy"] = float(clustering_accuracy(y, model.labels_))
        np.save(folder / f"H_{spec['mode']}.npy", model.components_)
        np.save(folder / f"labels_{spec['mode']}.npy", model.labels_)
    return out


def _worker_peak_reset():
    return _memory._reset_peak()


def worker_dask(spec):
    """Dask fit on a LocalCluster started here; worker memory sampled from here."""
    import dask
    from dask.distributed import Client, LocalCluster

    from sknmfcluster import NMFClusterer

    folder = Path(spec["folder"])
    path = folder / "X.npy"
    environ = {} if spec["numba_threads"] is None else {
        "distributed.nanny.pre-spawn-environ.NUMBA_NUM_THREADS":
            str(spec["numba_threads"])}
    with dask.config.set(environ):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1,
                               processes=True, dashboard_address=None)
    try:
        with Client(cluster) as client:
            return _dask_measurements(client, spec, folder, path, NMFClusterer)
    finally:
        cluster.close()


def _dask_measurements(client, spec, folder, path, NMFClusterer):
    import numba

    pids = client.run(os.getpid)
    threads = client.run(numba.get_num_threads)
    for dtype in (None, np.float64):  # imports and Numba's cache, untimed
        NMFClusterer(RANK, method="nmf", max_iter=2, tol=0).fit(
            dask_array(path, 500, n_rows=1000, dtype=dtype))
    reset = client.run(_worker_peak_reset)
    X = dask_array(path, spec["chunk_rows"])
    W0 = np.load(folder / "W0.npy")
    H0 = np.load(folder / "H0.npy")
    model = NMFClusterer(RANK, method="nmf", init="custom", tol=0,
                         max_iter=spec["passes"], verbose=2)
    with Sampler([os.getpid(), *pids.values()]) as sampler:
        _, seconds, passes = _timed_fit(model, X, W0, H0)
    H_ram = np.load(folder / "H_ram.npy")
    out = {"fit_s": seconds, "passes": passes, "n_iter": int(model.n_iter_),
           "reconstruction_err": float(model.reconstruction_err_),
           "client": sampler.report(os.getpid()),
           "workers": {addr: sampler.report(pid) | {"exact_peak": reset[addr],
                                                    "numba_threads": threads[addr]}
                       for addr, pid in pids.items()},
           "max_rel_diff": _relative_difference(model.components_, H_ram)}
    np.save(folder / "labels_dask.npy", model.labels_)
    out["exact"] = _dask_exactness(spec, path, NMFClusterer)
    return out


def _relative_difference(H, reference):
    """``max |H - reference| / max |reference|``."""
    return float(np.max(np.abs(np.asarray(H, np.float64) - reference))
                 / np.max(np.abs(reference)))


def _dask_exactness(spec, path, NMFClusterer):
    """The same fit in float64 on the first ``exact_rows`` rows, on the
    cluster and in this process: the factors' largest relative difference."""
    n = spec["exact_rows"]
    X = read_rows(path, 0, n, np.float64)
    rng = np.random.default_rng(0)
    scale = np.sqrt(X.mean() / RANK)
    W0, H0 = scale * rng.random((n, RANK)), scale * rng.random((RANK, X.shape[1]))
    kwargs = dict(n_clusters=RANK, method="nmf", init="custom", tol=0,
                  max_iter=spec["passes"])
    local = NMFClusterer(**kwargs).fit(X, W=W0, H=H0)
    chunked = NMFClusterer(**kwargs).fit(
        dask_array(path, max(1, n // 5), n_rows=n, dtype=np.float64), W=W0, H=H0)
    return {"rows": n, "chunks": 5,
            "max_rel_diff": _relative_difference(chunked.components_,
                                                 local.components_),
            "labels_equal": bool(np.array_equal(chunked.labels_, local.labels_))}


WORKERS = {"fit": worker_fit, "dask": worker_dask}


def run_worker(kind, spec, timeout=6 * 3600):
    """Run ``WORKERS[kind](spec)`` in a fresh process; its JSON result."""
    env = dict(os.environ, **_memory.MALLOC_ENV)
    proc = subprocess.run([sys.executable, __file__, "--worker", kind,
                           json.dumps(spec)], stdout=subprocess.PIPE,
                          text=True, env=env, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"the {kind} worker failed (exit {proc.returncode}); "
                           "its error is printed above")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- the sections -----------------------------------------------------------------
def section_streaming(cfg, folder, results):
    """The in-memory reference, the fit in batches, and memory-only fits."""
    base = {"folder": str(folder), "passes": cfg["passes"]}
    runs = {
        "ram": base | {"mode": "ram", "batch_size": None, "evaluate": True},
        "batches": base | {"mode": "batches", "batch_size": cfg["batch_size"],
                           "evaluate": True},
        "batches_x5": base | {"mode": "batches", "passes": 1, "evaluate": False,
                              "batch_size": 5 * cfg["batch_size"]},
        "mmap": base | {"mode": "mmap", "batch_size": None, "passes": 1,
                        "evaluate": False},
    }
    for name, spec in runs.items():
        if name != "ram" and "stream" not in cfg["only"]:
            continue
        clock = time.perf_counter()
        say(f"  {name}: {describe(spec)} ...")
        results[name] = run_worker("fit", spec) | {"spec": spec}
        say(f"  {name}: done in {time.perf_counter() - clock:.0f} s")


def describe(spec):
    where = {"ram": "X read into memory", "mmap": "memory-mapped X"}.get(
        spec["mode"], "memory-mapped X")
    batches = (f", batch_size={spec['batch_size']:,}" if spec["batch_size"]
               else "")
    return f"{where}{batches}, {spec['passes']} pass(es)"


def section_dask(cfg, folder, results):
    spec = {"folder": str(folder), "passes": cfg["passes"],
            "chunk_rows": cfg["chunk_rows"], "exact_rows": cfg["exact_rows"],
            "numba_threads": cfg["worker_numba_threads"]}
    clock = time.perf_counter()
    say(f"  dask: LocalCluster(n_workers=2, threads_per_worker=1), chunks of "
        f"{cfg['chunk_rows']:,} rows, {cfg['passes']} passes ...")
    results["dask"] = run_worker("dask", spec) | {"spec": spec}
    ram = np.load(folder / "labels_ram.npy")
    results["dask"]["labels_agree"] = float(np.mean(
        np.load(folder / "labels_dask.npy") == ram))
    say(f"  dask: done in {time.perf_counter() - clock:.0f} s")


# -- tables ----------------------------------------------------------------------
MIB = 2**20


def per_pass(run):
    seconds = run["passes"]["seconds"]
    return float(np.median(seconds)) if seconds else None


def objective_rows(cfg, results):
    ram = results["ram"]
    rows = []
    for name, label in (("ram", "in memory (X in RAM)"),
                        ("batches", f"batch_size={cfg['batch_size']:,} (memmap)"),
                        ("dask", f"Dask, chunks of {cfg['chunk_rows']:,} rows")):
        run = results.get(name)
        if run is None:
            continue
        objective = run.get("objective")
        rows.append([label, run["n_iter"], fmt(run["reconstruction_err"], 6),
                     fmt(objective, 6),
                     fmt(objective / ram["objective"], 4, "x") if objective else "-",
                     fmt(run.get("accuracy"), 3), fmt(run["fit_s"], 3, " s"),
                     fmt(per_pass(run), 3, " s"),
                     fmt(per_pass(run) / per_pass(ram), 3, "x")])
    return rows


def memory_rows(cfg, results, x_bytes, codes_bytes):
    rows = []
    for name in ("ram", "mmap", "batches", "batches_x5"):
        run = results.get(name)
        if run is None:
            continue
        spec, mem = run["spec"], run["memory"]
        batch = spec["batch_size"]
        batch_bytes = batch * x_bytes / cfg["n_samples"] if batch else None
        rows.append([describe(spec), fmt(mem["anon_extra"] / MIB, 4),
                     fmt(mem["anon_extra"] / batch_bytes, 3, "x") if batch else "-",
                     fmt(mem["anon_extra"] / codes_bytes, 3, "x"),
                     fmt(100 * mem["anon_extra"] / x_bytes, 3, " %"),
                     fmt(mem["anon_before"] / MIB, 4),
                     fmt(mem["rss_peak"] / MIB, 4)])
    return rows


def worker_rows(cfg, results, chunk_bytes):
    run = results["dask"]
    rows = []
    for index, (addr, mem) in enumerate(sorted(run["workers"].items())):
        rows.append([f"worker {index + 1} ({mem['numba_threads']} Numba threads)",
                     fmt(mem["rss_before"] / MIB, 4), fmt(mem["rss_peak"] / MIB, 4),
                     fmt(mem["rss_extra"] / MIB, 4),
                     fmt(mem["rss_extra"] / chunk_bytes, 3),
                     fmt(mem["anon_extra"] / MIB, 4)])
    client = run["client"]
    rows.append(["client (this script)", fmt(client["rss_before"] / MIB, 4),
                 fmt(client["rss_peak"] / MIB, 4), fmt(client["rss_extra"] / MIB, 4),
                 fmt(client["rss_extra"] / chunk_bytes, 3),
                 fmt(client["anon_extra"] / MIB, 4)])
    return rows


def target_rows(cfg, results, sizes):
    rows = []
    ram, batches, dask = (results.get(k) for k in ("ram", "batches", "dask"))

    def met(ok):
        return "yes" if ok else "NO"

    if batches:
        gap = batches["objective"] / ram["objective"] - 1
        rows.append(["streaming objective within 1 % of in-memory, same passes",
                     f"{100 * gap:+.2f} %", met(gap <= TARGETS["objective_gap"])])
        bound = (TARGETS["batch_copies"] * sizes["batch"]
                 + TARGETS["codes_copies"] * sizes["codes"])
        for name in ("batches", "batches_x5"):
            run = results.get(name)
            if run is None:
                continue
            batch = run["spec"]["batch_size"] * sizes["row"]
            bound = (TARGETS["batch_copies"] * batch
                     + TARGETS["codes_copies"] * sizes["codes"])
            extra = run["memory"]["anon_extra"]
            rows.append([f"streaming peak extra <= {TARGETS['batch_copies']} "
                         f"batches + {TARGETS['codes_copies']} x codes "
                         f"(batch_size={run['spec']['batch_size']:,})",
                         f"{extra / MIB:.0f} MiB <= {bound / MIB:.0f} MiB",
                         met(extra <= bound)])
    if dask:
        rows.append(["Dask fit completes", f"{dask['n_iter']} passes", "yes"])
        worst = max(w["rss_extra"] for w in dask["workers"].values())
        chunks = worst / sizes["chunk"]
        rows.append([f"each Dask worker's peak extra <= "
                     f"{TARGETS['worker_chunks']} chunks",
                     f"{chunks:.2f} chunks", met(chunks <= TARGETS["worker_chunks"])])
        diff = dask["max_rel_diff"]
        rows.append(["Dask factors = in-memory factors (float32, all rows)",
                     f"{diff:.1e} <= {TARGETS['equal_float32']:.0e}",
                     met(diff <= TARGETS["equal_float32"])])
        exact = dask["exact"]
        rows.append([f"Dask factors = in-memory factors (float64, "
                     f"{exact['rows']:,} rows)",
                     f"{exact['max_rel_diff']:.1e} <= "
                     f"{TARGETS['equal_float64']:.0e}",
                     met(exact["max_rel_diff"] <= TARGETS["equal_float64"])])
    return rows


def print_tables(cfg, results):
    n, m = cfg["n_samples"], SIDE * SIDE
    sizes = {"row": m * 4, "x": n * m * 4, "codes": n * RANK * 4,
             "batch": cfg["batch_size"] * m * 4, "chunk": cfg["chunk_rows"] * m * 4}
    say(heading(f"Objective and time after {cfg['passes']} passes over X"))
    say(table(["fit", "passes", "reconstruction_err_", "0.5 |X - WH|^2",
               "/ in-memory", "accuracy", "fit", "per pass", "/ in-memory"],
              objective_rows(cfg, results)))
    if "batches" in results:
        say(heading("Peak memory of the fits (fresh processes)"))
        say(f"X: {sizes['x'] / MIB:,.0f} MiB; a batch of {cfg['batch_size']:,} "
            f"rows: {sizes['batch'] / MIB:.1f} MiB; the codes (n x k float32) "
            f"that fit returns: {sizes['codes'] / MIB:.1f} MiB")
        say(table(["fit", "peak extra MiB", "/ batch", "/ codes", "/ X",
                   "before MiB", "peak RSS MiB (with mapped file)"],
                  memory_rows(cfg, results, sizes["x"], sizes["codes"])))
    if "dask" in results:
        dask = results["dask"]
        say(heading("Dask: memory of each process during the fit"))
        say(f"chunks of {cfg['chunk_rows']:,} rows = "
            f"{sizes['chunk'] / MIB:.0f} MiB; peak RSS from /proc (VmHWM, "
            f"reset before the fit: {all(w['exact_peak'] for w in dask['workers'].values())}) "
            "and sampling")
        say(table(["process", "before MiB", "peak MiB", "peak extra MiB",
                   "extra in chunks", "anonymous extra MiB"],
                  worker_rows(cfg, results, sizes["chunk"])))
        exact = dask["exact"]
        say(f"\nfactors: max |H_dask - H_memory| / max |H_memory| = "
            f"{dask['max_rel_diff']:.2e} (float32, all rows); "
            f"{exact['max_rel_diff']:.2e} (float64, first {exact['rows']:,} rows, "
            f"{exact['chunks']} chunks; labels equal: {exact['labels_equal']}); "
            f"labels equal to the in-memory fit's for "
            f"{100 * dask['labels_agree']:.4f} % of the rows")
    say(heading("Targets (issue 13)"))
    say(table(["target", "measured", "met"], target_rows(cfg, results, sizes)))


# -- main ---------------------------------------------------------------------------
def print_machine(info, folder):
    import dask
    import distributed

    pools = "; ".join(f"{p['internal_api']} {p['version']} ({p['library']}, "
                      f"{p['num_threads']} threads)" for p in info["threadpools"])
    disk = shutil.disk_usage(folder)
    say(heading("Machine"))
    say(f"{info['cpu_model']}, {info['cpus']} CPUs, {info['memory_gib']} GiB; "
        f"{info['platform']}\nPython {info['python']}, numpy {info['numpy']}, "
        f"scikit-learn {info['scikit-learn']}, numba {info['numba']} "
        f"({info['numba_threads']} threads), dask {dask.__version__}, "
        f"distributed {distributed.__version__}, sknmfcluster "
        f"{info['sknmfcluster']} at {info['git_commit']}\nthread pools: {pools}\n"
        f"data folder: {folder} ({disk.free / 2**30:.0f} GiB free)\n"
        f"load average at start: {info['load_average']}")
    if info["load_average"][0] > 0.5:
        say("WARNING: the machine is busy (load average > 0.5): timings are noisy.")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="100,000 rows (a few minutes)")
    parser.add_argument("--n-samples", type=int, help="rows of the data")
    parser.add_argument("--batch-size", type=int, help="batch_size of the streaming fit")
    parser.add_argument("--chunk-rows", type=int, help="rows per Dask chunk")
    parser.add_argument("--passes", type=int, help="passes over X of every fit")
    parser.add_argument("--data-dir", type=Path,
                        help="folder of the data (kept and reused); default: "
                             "a temporary folder, deleted at the end")
    parser.add_argument("--remove-data", action="store_true",
                        help="delete the files written in --data-dir at the end")
    parser.add_argument("--only", default="stream,dask",
                        help="stream, dask or both (the in-memory fit always runs)")
    parser.add_argument("--worker-numba-threads", default="1",
                        help="NUMBA_NUM_THREADS of the Dask workers (default 1, "
                             "one per task slot; 'default': Numba's own choice)")
    parser.add_argument("--out", type=Path, help="write every raw number to this JSON file")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def config(args):
    cfg = dict(CONFIGS["quick" if args.quick else "full"])
    for key in ("n_samples", "batch_size", "chunk_rows", "passes"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    cfg["exact_rows"] = min(cfg["exact_rows"], cfg["n_samples"])
    cfg["worker_numba_threads"] = (None if args.worker_numba_threads == "default"
                                   else int(args.worker_numba_threads))
    cfg["only"] = [s.strip() for s in args.only.split(",") if s.strip()]
    return cfg


DATA_FILES = ("X.npy", "y.npy", "W0.npy", "H0.npy", "meta.json", "H_ram.npy",
              "H_batches.npy", "labels_ram.npy", "labels_batches.npy",
              "labels_dask.npy")


def main(args):
    cfg = config(args)
    started = time.perf_counter()
    temporary = args.data_dir is None
    folder = Path(tempfile.mkdtemp(prefix="bench_streaming_")) if temporary \
        else args.data_dir
    folder.mkdir(parents=True, exist_ok=True)
    info = _common.machine_info()
    say(f"# sknmfcluster streaming and Dask benchmark "
        f"({'quick' if args.quick else 'full'} run)")
    print_machine(info, folder)
    say(f"config: {json.dumps(cfg)}")
    results = {"config": cfg, "machine": info}
    try:
        clock = time.perf_counter()
        say(heading("Data"))
        written = write_data(folder, cfg["n_samples"])
        say(f"{cfg['n_samples']:,} x {SIDE * SIDE} float32 "
            f"({cfg['n_samples'] * SIDE * SIDE * 4 / 1e9:.2f} GB) in {folder}"
            + (f", written in {time.perf_counter() - clock:.0f} s" if written else ""))
        say(heading("Fits"))
        for name, section in (("stream", section_streaming), ("dask", section_dask)):
            if name == "stream" or name in cfg["only"]:
                try:
                    section(cfg, folder, results)
                except Exception:  # report and go on
                    results.setdefault("errors", {})[name] = traceback.format_exc()
                    say(f"\nsection {name} FAILED:\n{traceback.format_exc()}")
        if "ram" in results:
            print_tables(cfg, results)
    finally:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
        elif args.remove_data:
            for name in DATA_FILES:
                (folder / name).unlink(missing_ok=True)
    results["load_average_end"] = list(os.getloadavg())
    results["elapsed_s"] = time.perf_counter() - started
    say(f"\nload average at end: {results['load_average_end']}; "
        f"total {results['elapsed_s']:.0f} s"
        + ("; data deleted" if temporary or args.remove_data else
           f"; data kept in {folder}"))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1, default=str))
        say(f"raw numbers written to {args.out}")


if __name__ == "__main__":
    ARGS = parse_args()
    if ARGS.worker:
        kind, spec = ARGS.worker
        print(json.dumps(WORKERS[kind](json.loads(spec)), default=float))
    else:
        main(ARGS)
