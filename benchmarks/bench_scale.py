#!/usr/bin/env python
"""The default NMFClusterer at scale: neighbours, spectral start, whole fit.

Everything a comparison needs is measured in the same run: the machine, the
versions, the load average before and after, and every ratio against
scikit-learn's ``KMeans(10)`` on the same data.

- ``neighbours``: exact search, this package's NN-descent, pynndescent (when
  installed) and a randomized-PCA candidate search followed by the exact
  re-ranking, at several sizes of synthetic clustered 28 x 28 images and on
  sparse counts; time and recall of the true 10 nearest neighbours.
- ``steps``: where NN-descent's time goes (its start, and the sample, join
  and apply steps of its iterations) on the images of the ``fit`` section,
  best of 3 builds.
- ``spectral``: the eigensolver (ARPACK in single precision, refined, as
  the package runs it; in double precision at the package's tolerance and
  at machine precision; LOBPCG with an AMG preconditioner when pyamg is
  installed) and the KMeans on the spectral embedding, at 70,000 samples
  (the images' NN-descent graph) and 1,000,000 (the NN-descent 10-NN graph
  of a Gaussian mixture in 8 dimensions).
- ``fit``: the default ``NMFClusterer(10)`` against ``KMeans(10)`` on 70,000
  images: total time, ratio, accuracy, and the time of every phase.
- ``digits``: the default's clustering accuracy on ``load_digits`` (mean
  over 5 seeds), which must stay at about 0.90.
- ``pickle``: the size of a fitted model's pickle against the data's.
- ``million``: the default fit on 1,000,000 x 784 float32 images in a fresh
  process: time, peak memory against the data's size, ``KMeans(10)``; and
  ``method="nmf"`` on the same data (its target: under 2 minutes).

    python benchmarks/bench_scale.py --quick            # minutes
    python benchmarks/bench_scale.py                    # 70,000 samples
    python benchmarks/bench_scale.py --only million     # 1,000,000 samples
"""

import argparse
import gc
import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import machine_info, zipf_counts  # noqa: E402
from _report import fmt, heading, ratio, say, table  # noqa: E402

SECTIONS = ("neighbours", "steps", "spectral", "fit", "digits", "pickle",
            "million")
K = 10  # neighbours, and clusters
CONFIGS = {
    "full": {"sizes": (5_000, 20_000, 70_000), "fit_n": 70_000,
             "spectral_n": (70_000, 1_000_000), "sparse": (20_000, 5_000),
             "queries": 1_000, "million_n": 1_000_000},
    "quick": {"sizes": (5_000, 20_000), "fit_n": 20_000,
              "spectral_n": (20_000,), "sparse": (10_000, 5_000),
              "queries": 500, "million_n": 100_000},
    # checks that every section runs, in a minute; its numbers mean nothing
    "smoke": {"sizes": (2_000,), "fit_n": 3_000, "spectral_n": (3_000,),
              "sparse": (2_000, 500), "queries": 200, "million_n": 5_000},
}


# -- data -------------------------------------------------------------------------
def _render(segments, widths, side):
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float64)
    img = np.zeros(side * side)
    for (y0, x0, y1, x1), w in zip(segments, widths):
        for t in np.linspace(0.0, 1.0, 10):
            cy, cx = y0 + t * (y1 - y0), x0 + t * (x1 - x0)
            img += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * w * w)).ravel()
    return img / max(img.max(), 1e-12)


def clustered_images(n_samples, dtype=np.float32, *, n_classes=10, side=28,
                     n_strokes=14, per_class=3, n_variants=64, jitter=1.5,
                     noise=0.1, threshold=0.1, seed=0, block=20_000):
    """Synthetic digit-like images with labels: 10 classes of blurred strokes.

    Each class draws ``per_class`` of ``n_strokes`` shared line segments (so
    classes overlap, as digits do); ``n_variants`` renderings per class
    jitter the segments' ends and widths. A sample blends two renderings of
    its class, scales its intensity, adds Gaussian noise and is shifted down
    and clipped to [0, 1] (about 70 % of the pixels are exactly zero). Built
    block by block in ``dtype``.
    """
    rng = np.random.default_rng(seed)
    strokes = rng.uniform(0.2 * side, 0.8 * side, (n_strokes, 4))
    classes = [rng.choice(n_strokes, per_class, replace=False)
               for _ in range(n_classes)]
    bank = np.empty((n_classes, n_variants, side * side))
    for c in range(n_classes):
        for v in range(n_variants):
            segs = strokes[classes[c]] + rng.normal(0, jitter, (per_class, 4))
            bank[c, v] = _render(segs, rng.uniform(0.8, 1.6, per_class), side)
    bank = bank.astype(dtype)
    X = np.empty((n_samples, side * side), dtype=dtype)
    y = rng.integers(0, n_classes, n_samples)
    for start in range(0, n_samples, block):
        stop = min(start + block, n_samples)
        yc, size = y[start:stop], stop - start
        a = bank[yc, rng.integers(0, n_variants, size)]
        b = bank[yc, rng.integers(0, n_variants, size)]
        t = rng.random((size, 1), dtype=dtype)
        rows = t * a + (1 - t) * b
        rows *= rng.uniform(0.7, 1.0, (size, 1)).astype(dtype)
        rows += noise * rng.standard_normal(rows.shape, dtype=dtype)
        rows -= threshold
        np.clip(rows, 0.0, 1.0, out=rows)
        X[start:stop] = rows
    return X, y


def mixture_graph(n, seed=0):
    """The symmetrised 10-NN graph of a 10-component Gaussian mixture in 8-d.

    Found by the package's NN-descent (a KD-tree took over half an hour of
    CPU at 1,000,000 points): a large graph for the spectral measurements
    without the cost of a million-image neighbour search.
    """
    from sknmfcluster import _neighbors, _storage

    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, n)
    Z = rng.normal(0, 2.2, (K, 8))[y] + rng.normal(0, 1, (n, 8))
    Zp = _storage.prepare(Z)
    nbrs = _neighbors.fit_neighbors(Zp, K, method="nndescent", random_state=0)
    return _neighbors.training_graph(nbrs, Zp, np.float64)[0], y


# -- helpers ----------------------------------------------------------------------
def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _row_dists(X, Q, rows):
    """Exact squared distances from each query row to its listed training rows."""
    from sknmfcluster import _storage

    rows = np.ascontiguousarray(rows, dtype=np.int64)
    out = np.empty(rows.shape)
    Xt, Xq = _storage.prepare(X), _storage.prepare(Q)
    if sp.issparse(X):
        from sknmfcluster import _neighbor_kernels
        _neighbor_kernels.sq_distances_csr(Xq.data, Xq.indices, Xq.indptr,
                                           Xt.data, Xt.indices, Xt.indptr,
                                           rows, out)
    else:
        from sknmfcluster import _neighbor_kernels
        _neighbor_kernels.sq_distances_dense(Xq.X, Xt.X, rows, out)
    return out


def rows_recall(X, Q, rows, truth):
    """Share of the true 10 nearest found, ties counted as found.

    A found neighbour counts when its exact distance is at most the true
    10th distance: with many exact ties (integer counts), another sample at
    the same distance is as near as the one the exact ranking picked.
    """
    kth = _row_dists(X, Q, truth).max(axis=1)
    found = _row_dists(X, Q, rows)
    return float(np.minimum((found <= kth[:, None]).sum(axis=1),
                            truth.shape[1]).sum() / truth.size)


def graph_rows(G):
    return G.indices.reshape(G.shape[0], -1)


def warm_up():
    """Compile (or load) every kernel on small data; returns compile seconds."""
    from sknmfcluster import NMFClusterer, _progress

    X, _ = clustered_images(600, seed=1)
    for method in ("exact", "nndescent"):
        for data in (X, sp.csr_matrix(X), X.astype(np.float64)):
            model = NMFClusterer(K, neighbors=method, max_iter=5,
                                 random_state=0).fit(data)
            model.predict(data[:20])
    return _progress.compile_seconds()


# -- neighbours -------------------------------------------------------------------
def _methods(X):
    """name -> function(Xp) returning (n, K) rows; timed by the caller."""
    from sknmfcluster import _neighbors, _storage

    def ours(method):
        def run():
            Xp = _storage.prepare(X)
            nbrs = _neighbors.fit_neighbors(Xp, K, method=method, random_state=0)
            return graph_rows(_neighbors.query_graph(nbrs, Xp, np.float64)), nbrs
        return run

    methods = {"exact": ours("exact"), "nndescent": ours("nndescent")}
    try:
        import pynndescent
    except ImportError:
        pynndescent = None
    if pynndescent is not None:
        def pynnd():
            index = pynndescent.NNDescent(X, n_neighbors=2 * K, random_state=0)
            cand = index.neighbor_graph[0].astype(np.int64)
            return _neighbors._rerank(_storage.prepare(X), _storage.prepare(X),
                                      cand, K), index
        methods["pynndescent"] = pynnd
    if not sp.issparse(X):
        methods["pca64 + exact"] = lambda: (_pca_candidates(X, 64, 3 * K), None)
    return methods


def _pca_candidates(X, d, c):
    """Exact search in a randomized-PCA space, then the exact re-ranking."""
    from sklearn.neighbors import NearestNeighbors
    from sklearn.utils.extmath import randomized_svd

    from sknmfcluster import _neighbors, _storage

    mean = X.mean(axis=0)
    _, _, Vt = randomized_svd(X - mean, d, random_state=0)
    Z = np.ascontiguousarray((X - mean) @ Vt.T, dtype=np.float32)
    cand = NearestNeighbors(n_neighbors=c).fit(Z).kneighbors(
        Z, return_distance=False)
    return _neighbors._rerank(_storage.prepare(X), _storage.prepare(X), cand, K)


def _query_rows(nbrs, Q):
    from sknmfcluster import _neighbors, _storage

    return graph_rows(_neighbors.query_graph(nbrs, _storage.prepare(Q),
                                             np.float64))


def section_neighbours(cfg, results):
    say(heading("Neighbours: time and recall of the true 10 nearest", 2))
    say("Recall: share of the exact 10 nearest neighbours that a method finds "
        "(a sample at the same distance as the true 10th counts); 'query': "
        f"one batch of {cfg['queries']} new samples against the fitted index "
        "(each row is searched on its own). pynndescent's "
        "time excludes its first-call compile (warmed up on 3,000 samples "
        "first), which it pays again in every new process (reported apart).")
    rows, out = [], []
    cases = [(f"images {n} x 784 float32", *clustered_images(
        n + cfg["queries"])) for n in cfg["sizes"]]
    n_sp, m_sp = cfg["sparse"]
    counts = zipf_counts(n_sp + cfg["queries"], m_sp, density=0.01,
                         dtype=np.float32)
    cases.append((f"Zipf counts CSR {n_sp} x {m_sp}, 1 % dense", counts, None))
    compile_pynnd = None
    for name, data, _ in cases:
        n_q = cfg["queries"]
        X, Q = data[:-n_q], data[-n_q:]
        methods = _methods(X)
        if "pynndescent" in methods and compile_pynnd is None:
            import pynndescent
            _, compile_pynnd = timed(lambda: pynndescent.NNDescent(
                clustered_images(3000)[0], n_neighbors=2 * K, random_state=0))
        truth, t_exact, q_truth = None, None, None
        for method, run in methods.items():
            (found, index), seconds = timed(run)
            if method == "exact":
                truth, t_exact = found, seconds
                q_truth, t_q = timed(lambda: _query_rows(index, Q))
            rec = rows_recall(X, X, found, truth)
            q_rec = q_time = None
            if method == "nndescent":
                q_rows, q_time = timed(lambda: _query_rows(index, Q))
                q_rec = rows_recall(X, Q, q_rows, q_truth)
            elif method == "exact":
                q_rec, q_time = 1.0, t_q
            rows.append([name, method, fmt(seconds, 3, " s"),
                         ratio(seconds, t_exact), fmt(rec, 4),
                         fmt(q_time, 3, " s"), fmt(q_rec, 4)])
            out.append({"data": name, "method": method, "seconds": seconds,
                        "recall": rec, "query_seconds": q_time,
                        "query_recall": q_rec})
            say(f"  {name}: {method} {seconds:.2f} s, recall {rec:.4f}")
            gc.collect()
    say(table(["data", "method", "build + training graph", "vs exact",
               "recall", f"query {cfg['queries']}", "query recall"], rows))
    if compile_pynnd is not None:
        say(f"\npynndescent first call in this process (compile + 3,000 "
            f"samples): {compile_pynnd:.1f} s")
    results["neighbours"] = {"rows": out, "pynndescent_first_call_s": compile_pynnd}


# -- NN-descent's steps ---------------------------------------------------------
def section_steps(cfg, results):
    from sknmfcluster import _neighbors, _storage

    n = cfg["fit_n"]
    say(heading(f"NN-descent's steps on {n} x 784 float32 images", 2))
    Xp = _storage.prepare(clustered_images(n)[0])
    c = _neighbors.CANDIDATE_FACTOR * K
    steps = ("start", "sample", "join", "apply")
    runs = []
    for _ in range(3):
        timings = {}
        _, total = timed(lambda: _neighbors.nndescent(Xp, c, 12345,
                                                      timings=timings))
        runs.append(dict(timings, total=total))
        say(f"  build: {total:.2f} s")
    best = min(runs, key=lambda r: r["total"])
    say(table(["run", *steps, "total", "iterations"], [
        [str(i + 1), *(fmt(r[s], 3, " s") for s in steps),
         fmt(r["total"], 3, " s"), str(r["iterations"])]
        for i, r in enumerate(runs)]))
    say(f"best of 3: {best['total']:.2f} s")
    results["steps"] = {"n": n, "runs": runs}


# -- spectral -----------------------------------------------------------------------
def _image_graph(n):
    from sknmfcluster import _neighbors, _storage

    X, y = clustered_images(n)
    Xp = _storage.prepare(X)
    nbrs = _neighbors.fit_neighbors(Xp, K, random_state=0)
    return _neighbors.training_graph(nbrs, Xp, np.float64)[0], y


def _solvers(A, S, rng):
    from scipy.sparse.linalg import lobpcg

    from sknmfcluster import _spectral

    def arpack(tol, single):
        def run():
            names = "EIGEN_TOL", "EIGEN_TOL_FROM", "EIGEN_SINGLE_FROM"
            old = [getattr(_spectral, name) for name in names]
            new = tol, 0, 0 if single else A.shape[0] + 1
            for name, value in zip(names, new):
                setattr(_spectral, name, value)
            try:
                return _spectral._leading_eigenvectors(A, S, K, rng)
            finally:
                for name, value in zip(names, old):
                    setattr(_spectral, name, value)
        return run

    tol = _spectral.EIGEN_TOL
    solvers = {f"ARPACK float32 tol={tol:g}, refined (package)":
               arpack(tol, True),
               f"ARPACK float64 tol={tol:g} (before)": arpack(tol, False),
               "ARPACK float64 machine precision": arpack(0.0, False)}
    try:
        from pyamg import smoothed_aggregation_solver
    except ImportError:
        return solvers

    def amg():
        # scikit-learn's SpectralClustering(eigen_solver="amg") recipe
        n = A.shape[0]
        L = (sp.identity(n, format="csr") * (1 + 1e-5) - A).tocsr()
        M = smoothed_aggregation_solver(L).aspreconditioner()
        return lobpcg(L, rng.standard_normal((n, K)), M=M, tol=1e-5,
                      largest=False, maxiter=200)[1]

    solvers["LOBPCG + AMG (pyamg)"] = amg
    return solvers


def section_spectral(cfg, results, skip_precise_from=200_000):
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from sklearn.preprocessing import normalize

    from sknmfcluster import _neighbors, _spectral
    from sknmfcluster.metrics import clustering_accuracy

    say(heading("Spectral start: eigensolver and KMeans on the embedding", 2))
    rows, krows, out = [], [], []
    for n in cfg["spectral_n"]:
        if n <= 100_000:
            (S, y), t_graph = timed(lambda: _image_graph(n))
            what = f"{n} images, NN-descent graph"
        else:
            (S, y), t_graph = timed(lambda: mixture_graph(n))
            what = f"{n}, 8-d mixture NN-descent graph"
        A, _ = _neighbors.degree_normalize(S)
        say(f"  {what}: {A.nnz} non-zeros, built in {t_graph:.1f} s")
        U_pkg = None
        for name, run in _solvers(A, S, np.random.RandomState(0)).items():
            if "machine" in name and n >= skip_precise_from:
                rows.append([what, name, "skipped", "-", "-"])
                continue
            U, seconds = timed(run)
            values = np.einsum("ij,ij->j", U, A @ U)
            resid = float(np.linalg.norm(A @ U - U * values, axis=0).max())
            lab = KMeans(K, n_init=10, random_state=0).fit_predict(normalize(U))
            acc = clustering_accuracy(y, lab)
            rows.append([what, name, fmt(seconds, 3, " s"), f"{resid:.1e}",
                         fmt(acc, 4)])
            out.append({"graph": what, "solver": name, "seconds": seconds,
                        "residual": resid, "accuracy": acc})
            say(f"  {name}: {seconds:.1f} s, accuracy {acc:.4f}")
            if U_pkg is None:
                U_pkg = U
        E = normalize(U_pkg)
        for label, make in [
                ("KMeans n_init=10 (package)",
                 lambda: KMeans(K, n_init=_spectral.SPECTRAL_KMEANS_N_INIT,
                                random_state=0)),
                ("KMeans n_init=1", lambda: KMeans(K, n_init=1, random_state=0)),
                ("MiniBatchKMeans n_init=3",
                 lambda: MiniBatchKMeans(K, n_init=3, random_state=0,
                                         batch_size=4096))]:
            lab, seconds = timed(lambda: make().fit_predict(E))
            krows.append([what, label, fmt(seconds, 3, " s"),
                          fmt(clustering_accuracy(y, lab), 4)])
        del A, S
        gc.collect()
    say(table(["graph", "eigensolver", "time", "max residual",
               "spectral accuracy"], rows))
    say("")
    say(table(["graph", "KMeans on the embedding", "time", "accuracy"], krows))
    results["spectral"] = {"solvers": out, "kmeans": krows}


# -- whole fit --------------------------------------------------------------------
def section_fit(cfg, results):
    from sklearn.cluster import KMeans

    from sknmfcluster import NMFClusterer, _progress
    from sknmfcluster.metrics import clustering_accuracy

    n = cfg["fit_n"]
    say(heading(f"Default NMFClusterer(10) against KMeans(10), {n} x 784 "
                "float32 images", 2))
    X, y = clustered_images(n)
    km, t_km = timed(lambda: KMeans(K, random_state=0).fit(X))
    say("phases of the default fit (stderr):")
    with _progress.report_phases():
        model, t_fit = timed(lambda: NMFClusterer(K, random_state=0).fit(X))
    acc_km = clustering_accuracy(y, km.labels_)
    acc = clustering_accuracy(y, model.labels_)
    say(table(["estimator", "fit time", "vs KMeans", "accuracy"], [
        ["KMeans(10)", fmt(t_km, 3, " s"), "1x", fmt(acc_km, 4)],
        ["NMFClusterer(10)", fmt(t_fit, 3, " s"), ratio(t_fit, t_km),
         fmt(acc, 4)]]))
    say(f"target: NMFClusterer at most 3x KMeans -> "
        f"{'met' if t_fit <= 3 * t_km else 'NOT met'}")
    results["fit"] = {"n": n, "kmeans_s": t_km, "nmf_s": t_fit,
                      "ratio": t_fit / t_km, "kmeans_accuracy": acc_km,
                      "accuracy": acc}


def section_digits(cfg, results):
    from sklearn.datasets import load_digits

    from sknmfcluster import NMFClusterer
    from sknmfcluster.metrics import clustering_accuracy

    say(heading("Digits: the default's accuracy (mean over seeds 0-4)", 2))
    X, y = load_digits(return_X_y=True)
    accs = [clustering_accuracy(y, NMFClusterer(K, random_state=s).fit(
        X / 16.0).labels_) for s in range(5)]
    say(f"accuracy per seed {np.round(accs, 4).tolist()}, mean "
        f"{np.mean(accs):.4f} (must stay at about 0.90)")
    results["digits"] = accs


def section_pickle(cfg, results):
    from sknmfcluster import NMFClusterer

    say(heading("What a fitted model pickles", 2))
    rows = []
    for n in sorted({min(5_000, cfg["fit_n"]), cfg["fit_n"]}):
        X, _ = clustered_images(n)
        for data, kind in ((X, "dense"), (sp.csr_matrix(X), "CSR")):
            size = (data.data.nbytes + data.indices.nbytes + data.indptr.nbytes
                    if sp.issparse(data) else data.nbytes)
            model = NMFClusterer(K, random_state=0, max_iter=20).fit(data)
            parts = {name: len(pickle.dumps(value))
                     for name, value in vars(model).items()}
            total = len(pickle.dumps(model))
            rows.append([f"{n} {kind}", model._nn.method, fmt(size / 1e6, 3),
                         fmt(total / 1e6, 3), ratio(total, size),
                         fmt(parts["_nn"] / 1e6, 3),
                         fmt(parts["graph_factor_"] / 1e6, 3)])
    say(table(["data", "index", "data MB", "pickle MB", "vs data",
               "index MB", "graph_factor_ MB"], rows))
    results["pickle"] = rows


# -- one million, in a fresh process -------------------------------------------------
def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def million_worker(n):
    """Fit the default on ``n`` images; JSON of times and peak memory."""
    from sklearn.cluster import KMeans

    from sknmfcluster import NMFClusterer, _progress
    from sknmfcluster.metrics import clustering_accuracy

    warm_up()
    X, y = clustered_images(n)
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the peak RSS mark
        exact = True
    except OSError:
        exact = False
    before = _status_kib("VmRSS")
    with _progress.report_phases():
        model, t_fit = timed(lambda: NMFClusterer(K, random_state=0).fit(X))
    peak = _status_kib("VmHWM")
    acc = clustering_accuracy(y, model.labels_)
    del model
    gc.collect()
    with _progress.report_phases():
        nmf, t_nmf = timed(lambda: NMFClusterer(K, method="nmf",
                                                random_state=0).fit(X))
    acc_nmf = clustering_accuracy(y, nmf.labels_)
    del nmf
    gc.collect()
    km, t_km = timed(lambda: KMeans(K, random_state=0).fit(X))
    print(json.dumps({"n": n, "data_bytes": X.nbytes, "rss_before": before * 1024,
                      "peak": peak * 1024, "peak_exact": exact, "fit_s": t_fit,
                      "accuracy": acc, "nmf_s": t_nmf, "nmf_accuracy": acc_nmf,
                      "kmeans_s": t_km,
                      "kmeans_accuracy": clustering_accuracy(y, km.labels_)}))


def section_million(cfg, results):
    n = cfg["million_n"]
    say(heading(f"Default fit on {n} x 784 float32 images (fresh process)", 2))
    proc = subprocess.run([sys.executable, __file__, "--million-worker", str(n)],
                          capture_output=True, text=True)
    sys.stderr.write(proc.stderr[-5000:])
    if proc.returncode != 0:
        say("failed:\n" + proc.stderr[-2000:])
        return
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    extra = r["peak"] - r["rss_before"]
    say(table(["n", "data GB", "fit", "vs KMeans", "accuracy", "KMeans",
               "KMeans accuracy", "peak RSS GB", "peak / data"], [[
        n, fmt(r["data_bytes"] / 1e9, 3), fmt(r["fit_s"], 3, " s"),
        ratio(r["fit_s"], r["kmeans_s"]), fmt(r["accuracy"], 4),
        fmt(r["kmeans_s"], 3, " s"), fmt(r["kmeans_accuracy"], 4),
        fmt(r["peak"] / 1e9, 3), ratio(r["peak"], r["data_bytes"])]]))
    how = "exact" if r["peak_exact"] else "sampled"
    say(f"peak RSS during the fit ({how}) includes the data and the interpreter; "
        f"extra over the RSS before the fit: {extra / 1e9:.2f} GB. Targets: "
        f"fit under 600 s -> {'met' if r['fit_s'] < 600 else 'NOT met'}, "
        f"peak at most 2x the data -> "
        f"{'met' if r['peak'] <= 2 * r['data_bytes'] else 'NOT met'}")
    say(f"NMFClusterer(10, method='nmf') on the same data: "
        f"{r['nmf_s']:.1f} s ({ratio(r['nmf_s'], r['kmeans_s'])} KMeans), "
        f"accuracy {r['nmf_accuracy']:.4f}; target under 120 s -> "
        f"{'met' if r['nmf_s'] < 120 else 'NOT met'}")
    results["million"] = r


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--only", default="neighbours,spectral,fit,digits,pickle",
                        help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--out", help="write the raw numbers to this JSON file")
    parser.add_argument("--million-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.million_worker:
        cfg = CONFIGS["smoke" if args.smoke else "full"]
        return million_worker(args.million_worker)
    cfg = CONFIGS["smoke" if args.smoke else "quick" if args.quick else "full"]
    info = machine_info()
    say(heading("Machine", 2))
    say(json.dumps({k: v for k, v in info.items() if k != "threadpools"},
                   indent=1))
    if info["load_average"][0] > 0.5:
        say("WARNING: the machine is busy (load average > 0.5): timings are noisy.")
    compile_s = warm_up()
    say(f"\nNumba compile time in this process (warm-up): {compile_s:.1f} s")
    results = {"machine": info, "compile_s": compile_s}
    for section in args.only.split(","):
        globals()[f"section_{section}"](cfg, results)
    results["load_average_end"] = list(os.getloadavg())
    say(f"\nload average at the end: {results['load_average_end']}")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
