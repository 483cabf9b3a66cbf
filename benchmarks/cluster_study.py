"""Clustering quality study: which NMF protocol clusters well (issue 6).

Compares, over several seeds, the ways of turning NMF into clusters (argmax of
the raw or scale-normalised codes, cosine geometry, restarts, inits, losses,
KMeans on the codes), the two graph-based factorizations of
:class:`sknmfcluster.NMFClusterer` (graph-regularised NMF and symmetric NMF of
a k-nearest-neighbour affinity) with their number of neighbours, strength,
init and restarts, and KMeans and spectral clustering on ``X``. Reports the
clustering accuracy (Hungarian matching) and NMI, mean and standard deviation
over the seeds, and the mean fit time; then, for a few settings, the accuracy
of ``predict`` on held-out samples next to the accuracy on the training
samples.

Data, all offline:

- ``digits``: :func:`sklearn.datasets.load_digits`, pixels scaled to [0, 1],
  10 classes; the seeds vary the estimators' ``random_state``.
- ``parts``: synthetic non-negative data with known clusters, each sample
  mostly one of 8 sparse non-negative prototypes plus up to 0.6 of each of
  the others and noise (NMF's home ground); a new draw per seed.
- ``moons``: two interleaved half-moons and a blob, shifted to be
  non-negative (non-convex clusters, a graph method's home ground); a new
  draw per seed.
- ``text``: the 20 Newsgroups corpus if scikit-learn has it cached
  (``fetch_20newsgroups_vectorized``, never downloaded here); otherwise a
  synthetic bag-of-words corpus with 8 topics (Zipf-distributed word counts,
  20-120 words per document of which a fifth are topic words), TF-IDF weighted with
  unit-norm rows; a new draw per seed.

Run from the repository root::

    python benchmarks/cluster_study.py                # the full study, a few minutes
    python benchmarks/cluster_study.py --quick        # 2 seeds, fewer rows
    python benchmarks/cluster_study.py --only digits --out study.md

Numba's OpenMP threads spin at every barrier by default, which makes a
parallel kernel orders of magnitude slower when other processes share the
cores; this script sets ``OMP_WAIT_POLICY=PASSIVE`` unless it is already set
(the results do not depend on it, only the times).
"""

import argparse
import os
import sys
import time
import warnings

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from sklearn.cluster import KMeans, SpectralClustering  # noqa: E402
from sklearn.datasets import load_digits, make_blobs, make_moons  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.feature_extraction.text import TfidfTransformer  # noqa: E402
from sklearn.metrics import normalized_mutual_info_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import normalize  # noqa: E402

from sknmfcluster import NMFClusterer  # noqa: E402
from sknmfcluster import (_engine, _neighbors, _problems, _spectral,  # noqa: E402
                          _storage)
from sknmfcluster.metrics import clustering_accuracy  # noqa: E402

N_NEIGHBORS = 10


# -- data ----------------------------------------------------------------------
def digits(seed):
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def parts(seed, n=600, m=40, k=8):
    rng = np.random.RandomState(seed)
    H = rng.uniform(0, 1, (k, m)) * (rng.uniform(size=(k, m)) < 0.3)
    y = rng.randint(k, size=n)
    W = 0.6 * rng.uniform(size=(n, k)) ** 2
    W[np.arange(n), y] += rng.uniform(0.5, 1.5, size=n)
    X = W @ H + 0.1 * rng.uniform(size=(n, m))
    return X, y


def moons(seed, n=600):
    Xm, ym = make_moons(n_samples=2 * n // 3, noise=0.07, random_state=seed)
    Xb, _ = make_blobs(n_samples=n // 3, centers=[[3.2, -0.2]],
                       cluster_std=0.25, random_state=seed)
    X = np.vstack([Xm, Xb])
    return X - X.min(axis=0), np.concatenate([ym, np.full(len(Xb), 2)])


def text(seed, n=1500, vocab=3000, k=8, own=0.2):
    try:
        from sklearn.datasets import fetch_20newsgroups_vectorized
        bunch = fetch_20newsgroups_vectorized(subset="all",
                                              download_if_missing=False)
        return normalize(TfidfTransformer(sublinear_tf=True).fit_transform(
            bunch.data)), bunch.target
    except (OSError, IOError):
        pass
    rng = np.random.RandomState(seed)
    zipf = 1.0 / np.arange(1, vocab + 1) ** 1.1
    zipf /= zipf.sum()
    topics = [rng.permutation(vocab) for _ in range(k)]
    y = rng.randint(k, size=n)
    rows, cols = [], []
    for i in range(n):
        length = rng.randint(20, 120)
        words = rng.choice(vocab, size=length, p=zipf)
        topical = rng.uniform(size=length) < own
        words[topical] = topics[y[i]][words[topical]]
        rows.append(np.full(length, i))
        cols.append(words)
    counts = sp.csr_matrix((np.ones(sum(map(len, rows))),
                            (np.concatenate(rows), np.concatenate(cols))),
                           shape=(n, vocab))
    counts.sum_duplicates()
    return normalize(TfidfTransformer(sublinear_tf=True).fit_transform(
        counts)), y


DATASETS = {"digits": digits, "parts": parts, "moons": moons, "text": text}
#: Data sets drawn anew for each seed.
REDRAWN = {"parts", "moons", "text"}


# -- the protocols -----------------------------------------------------------
def nmf(**kw):
    return lambda X, k, s: NMFClusterer(k, method="nmf", random_state=s,
                                        **kw).fit(X).labels_


def nmf_raw_argmax(X, k, s):
    return NMFClusterer(k, method="nmf", random_state=s).fit_transform(
        X).argmax(axis=1)


def nmf_cosine(X, k, s):
    return NMFClusterer(k, method="nmf", random_state=s).fit(
        normalize(X)).labels_


def graph(lam, **kw):
    """GNMF with the weight lambda of the study, in the units of X.

    ``graph_strength`` is relative to the root mean square of X: lambda /
    rms(X) gives the same lambda as before that change.
    """
    def run(X, k, s):
        rms = float(np.sqrt(X.multiply(X).mean() if sp.issparse(X)
                            else np.mean(np.square(X))))
        return NMFClusterer(k, method="graph", random_state=s,
                            graph_strength=lam / rms, **kw).fit(X).labels_
    return run


def symmetric(**kw):
    kw.setdefault("n_neighbors", N_NEIGHBORS)
    return lambda X, k, s: NMFClusterer(k, method="symmetric",
                                        random_state=s, **kw).fit(X).labels_


def symmetric_graph_variant(mode):
    """SymNMF on a graph built differently from the estimator's: internals."""
    def run(X, k, s):
        Xp = _storage.prepare(X)
        nbrs = _neighbors.fit_neighbors(Xp, N_NEIGHBORS)
        G = _neighbors.query_graph(nbrs, Xp, np.float64)
        if mode == "no-self":
            G = G - sp.diags(G.diagonal())
            G.eliminate_zeros()
        S = sp.csr_matrix(G.maximum(G.T)) if mode == "max" else _neighbors.symmetrize(G)
        A, _ = _neighbors.degree_normalize(S)
        W0 = _spectral.init_symnmf(A, S, k, "spectral", np.random.RandomState(s))
        result = _engine.fit([("spectral", lambda: _problems.SymNMF(A, W0))],
                             max_iter=200, tol=1e-4)
        return result.W.argmax(axis=1)
    return run


def kmeans_x(X, k, s):
    return KMeans(k, n_init=10, random_state=s).fit_predict(X)


def spectral_x(X, k, s):
    return SpectralClustering(k, affinity="nearest_neighbors",
                              n_neighbors=N_NEIGHBORS,
                              random_state=s).fit_predict(X)


#: Rows run on every data set; digits, the reference of the issue, gets all.
CORE = ("KMeans on X", "Spectral", "raw W", "scale-normalised", "cosine",
        "KL loss", "NMF: KMeans on W", "λ=100: KMeans", "λ=1000",
        "SymNMF 10-NN (", "SymNMF 10-NN, init=nndsvda",
        "SymNMF 10-NN, random init, n_init", "default")
#: Rows of ``--quick``.
QUICK = ("KMeans on X", "Spectral", "raw W", "scale-normalised",
         "NMF: KMeans on W", "λ=1000", "SymNMF 10-NN (", "default")


def protocols(dataset, quick):
    rows = [
        ("KMeans on X (n_init=10)", kmeans_x),
        (f"Spectral clustering on X ({N_NEIGHBORS}-NN)", spectral_x),
        ("NMF: argmax of raw W", nmf_raw_argmax),
        ("NMF: argmax of scale-normalised W", nmf()),
        ("NMF: row-normalised X (cosine)", nmf_cosine),
        ("NMF: init=random", nmf(init="random")),
        ("NMF: init=nndsvd", nmf(init="nndsvd")),
        ("NMF: init=nndsvdar", nmf(init="nndsvdar")),
        ("NMF: random init, n_init=10", nmf(init="random", n_init=10)),
        ("NMF: KL loss", nmf(beta_loss="kullback-leibler")),
        ("NMF: KMeans on W", nmf(assign_labels="kmeans")),
        ("GNMF λ=100: argmax", graph(100.0, assign_labels="argmax")),
        ("GNMF λ=100: KMeans on W", graph(100.0, assign_labels="kmeans")),
        ("GNMF λ=1000: KMeans on W", graph(1000.0, assign_labels="kmeans")),
        ("SymNMF 5-NN", symmetric(n_neighbors=5)),
        ("SymNMF 10-NN (spectral init)", symmetric()),
        ("SymNMF 15-NN", symmetric(n_neighbors=15)),
        ("SymNMF 20-NN", symmetric(n_neighbors=20)),
        ("SymNMF 10-NN, init=nndsvda", symmetric(init="nndsvda")),
        ("SymNMF 10-NN, init=nndsvd", symmetric(init="nndsvd")),
        ("SymNMF 10-NN, init=random", symmetric(init="random")),
        ("SymNMF 10-NN, random init, n_init=10",
         symmetric(init="random", n_init=10)),
        ("SymNMF 10-NN, KMeans on W", symmetric(assign_labels="kmeans")),
        ("SymNMF 10-NN, max-symmetrised graph",
         symmetric_graph_variant("max")),
        ("SymNMF 10-NN, no self-loops", symmetric_graph_variant("no-self")),
        ("NMFClusterer() default", lambda X, k, s: NMFClusterer(
            k, random_state=s).fit(X).labels_),
    ]
    keep = QUICK if quick else CORE if dataset != "digits" else None
    if keep:
        rows = [r for r in rows if any(word in r[0] for word in keep)]
    return rows


# -- running -----------------------------------------------------------------
def evaluate(name, run, dataset, seeds):
    accs, nmis, times = [], [], []
    for seed in seeds:
        X, y = DATASETS[dataset](seed if dataset in REDRAWN else 0)
        k = len(np.unique(y))
        start = time.perf_counter()
        labels = run(X, k, seed)
        times.append(time.perf_counter() - start)
        accs.append(clustering_accuracy(y, labels))
        nmis.append(normalized_mutual_info_score(y, labels))
    return dict(name=name, acc=np.array(accs), nmi=np.array(nmis),
                time=float(np.mean(times)))


def held_out(dataset, seeds, settings):
    """Accuracy on the training part (labels_) and on a 20 % test part (predict)."""
    out = []
    for name, params in settings:
        train, test = [], []
        for seed in seeds:
            X, y = DATASETS[dataset](seed if dataset in REDRAWN else 0)
            X_tr, X_te, y_tr, y_te = train_test_split(
                X, y, test_size=0.2, random_state=seed, stratify=y)
            model = NMFClusterer(len(np.unique(y)), random_state=seed,
                                 **params).fit(X_tr)
            train.append(clustering_accuracy(y_tr, model.labels_))
            test.append(clustering_accuracy(y_te, model.predict(X_te)))
        out.append((name, np.array(train), np.array(test)))
    return out


def _pm(values):
    return f"{values.mean():.3f} ± {values.std():.3f}"


def table(dataset, results):
    lines = [f"### {dataset}", "",
             "| protocol | accuracy | NMI | fit s |",
             "|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['name']} | {_pm(r['acc'])} | {_pm(r['nmi'])} | "
                     f"{r['time']:.2f} |")
    return "\n".join(lines)


def held_out_table(dataset, rows):
    lines = [f"### {dataset}: held-out predict (80/20 split per seed)", "",
             "| setting | train accuracy (labels_) | test accuracy (predict) "
             "| mean gap |", "|---|---|---|---|"]
    for name, train, test in rows:
        lines.append(f"| {name} | {_pm(train)} | {_pm(test)} | "
                     f"{(train - test).mean():+.3f} |")
    return "\n".join(lines)


HELD_OUT = [
    ("NMFClusterer() default", {}),
    ("method='nmf'", dict(method="nmf")),
    ("method='symmetric', 10-NN", dict(method="symmetric")),
    ("method='graph' (graph_strength 2000 ≈ λ 970 on digits, KMeans on W)",
     dict(method="graph")),
]


def warm_up():
    """Load (or compile) every kernel once, so fit times exclude compilation."""
    X = np.random.RandomState(0).rand(40, 6)
    for data in (X, sp.csr_matrix(X)):
        for method in ("nmf", "graph", "symmetric"):
            NMFClusterer(2, method=method, max_iter=2).fit(data).predict(data)
        NMFClusterer(2, method="nmf", beta_loss="kullback-leibler",
                     max_iter=2).fit(data)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=None,
                        help="number of seeds (default 5, 2 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="2 seeds and the main rows only")
    parser.add_argument("--only", default=",".join(DATASETS),
                        help="comma-separated data sets: "
                             + ", ".join(DATASETS))
    parser.add_argument("--out", default=None,
                        help="also write the tables (markdown) to this file")
    args = parser.parse_args(argv)
    seeds = list(range(args.seeds or (2 if args.quick else 5)))
    warnings.simplefilter("ignore", ConvergenceWarning)
    # scikit-learn's spectral embedding warns on graphs with several
    # connected components, which well-separated clusters give
    warnings.filterwarnings("ignore", message="Graph is not fully connected")
    print(f"# Clustering study: {len(seeds)} seeds, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs, "
          f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}", flush=True)
    warm_up()
    sections = []
    for dataset in args.only.split(","):
        results = []
        for name, run in protocols(dataset, args.quick):
            results.append(evaluate(name, run, dataset, seeds))
            r = results[-1]
            print(f"  {dataset:7s} {name:45s} acc {_pm(r['acc'])}  "
                  f"nmi {_pm(r['nmi'])}  {r['time']:.2f}s", file=sys.stderr,
                  flush=True)
        sections.append(table(dataset, results))
        print("\n" + sections[-1] + "\n", flush=True)
        if dataset == "digits":
            sections.append(held_out_table(dataset, held_out(
                dataset, seeds, HELD_OUT)))
            print(sections[-1] + "\n", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n\n".join(sections) + "\n")


if __name__ == "__main__":
    main()
