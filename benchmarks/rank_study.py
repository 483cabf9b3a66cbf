"""Choosing the number of clusters without labels: which criterion finds it (issue 12).

Planted data with a known rank ``k`` (3 to 15), four generators and three
noise levels, a new draw per case; every criterion sees the same data and,
where it needs NMF fits, the same fits:

- ``bicv``: bi-cross-validation (:func:`sknmfcluster.model_selection.bicv_score`)
  on 5-fold sample splits, in several variants (feature split ``balanced``,
  ``norm``, ``random``; 2 or 3 feature folds), each with two rules: the best
  mean score (``max``, what ``GridSearchCV`` does) and the smallest rank
  within one standard error of it (``1se``);
- ``score``: the estimators' own ``score`` on the same held-out samples;
- ``bic``, ``aic``: penalised objectives of the NMF fitted on all samples
  (``N log(RSS / N) + p log N`` with ``N = n m`` entries and ``p = r (n + m)``
  parameters for the Frobenius loss; ``2 D + p log N`` for KL, ``2 D`` being
  the Poisson deviance);
- ``cophenetic``: Brunet et al.'s consensus of 10 random restarts, the first
  rank at which the cophenetic correlation drops (R's NMF, Hutchins et al.
  2008); ``pac``: the rank of least ambiguous clustering;
- ``speckled``: an entry-wise hold-out as in RcppML (10 % of the entries
  hidden, the NMF fitted to the rest by EM: hidden entries filled with the
  current ``W H``, then a few warm-started iterations, which never increases
  the divergence on the observed entries), only with ``--speckled``;
- ``silhouette``: KMeans (``n_init=10``) with the best silhouette;
  ``gmm_bic``: ``GaussianMixture`` with the least BIC, the better of the
  ``spherical`` and ``diag`` covariances (``full`` has more parameters than
  samples at these sizes).

The NMF is ``NMFClusterer(method="nmf")`` with the Frobenius loss, and the
Kullback-Leibler loss on the count data (``--method`` changes the method
for a second table). Every criterion searches the same ranks, 2 to 18
(2 to 8 with ``--quick``).

Generators (``n = 300`` samples; the noise level is the standard deviation
of Gaussian noise relative to the RMS of ``W H``, negative entries clipped
to zero; for counts, the mean number of words per document):

- ``mixture``: every sample a Dirichlet(0.5) mixture of ``k`` sparse parts
  (80 features, 30 % non-zero), no clusters;
- ``separated``: clusters, each sample one part plus up to 0.1 of the others;
- ``overlapping``: clusters, each sample one part plus up to 0.6 of the others;
- ``counts``: Poisson word counts (200 words, sparse CSR) of documents that
  are 70 % one topic and 30 % a mixture of all ``k``, topics drawn from
  Dirichlet(0.1) over the words.

The design choices (split, folds, rule) were made on ``--seeds dev`` (k in
3, 6, 9, 12, 15); the published table is ``--seeds test``, other draws of
every k from 3 to 15. Run from the repository root::

    python benchmarks/rank_study.py --quick              # smoke run, 4 cases
    python benchmarks/rank_study.py --seeds test --out benchmarks/rank_study.md
    python benchmarks/rank_study.py --real               # digits, iris, wine, ...
    python benchmarks/rank_study.py --seeds test --resume  # finish an interrupted run

Raw results go to ``benchmarks/results/rank_study_<seeds>_<method>.jsonl``
(``..._quick.jsonl`` with ``--quick``).
"""

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import silhouette_score  # noqa: E402
from sklearn.mixture import GaussianMixture  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402

from sknmfcluster import NMFClusterer, SparseNMF, _consensus, _survey  # noqa: E402
from sknmfcluster.model_selection import bicv_score  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
RANKS = list(range(2, 19))
QUICK_RANKS = list(range(2, 9))
N_SAMPLES = 300
N_SPLITS = 5
N_RUNS = 10
LEVELS = {"continuous": (0.1, 0.25, 0.5), "counts": (400, 150, 50)}
#: Variants of the held-out score: the default (balanced split, 2 feature
#: folds) and Owen & Perry's random halves; ``--variants all`` adds the norm
#: split and 3 feature folds (the design study on the dev seeds).
VARIANTS = [("balanced", 2), ("random", 2)]
ALL_VARIANTS = [(split, q) for split in ("balanced", "norm", "random")
                for q in (2, 3)]
SPECKLE_FRACTION = 0.1


# -- generators ------------------------------------------------------------------
def _parts(rng, k, m, density=0.3):
    H = rng.uniform(0, 1, (k, m)) * (rng.uniform(size=(k, m)) < density)
    H[np.arange(k), rng.randint(m, size=k)] += 0.5  # no empty part
    return H


def _noisy(rng, WH, level):
    sd = level * np.sqrt(np.mean(WH ** 2))
    return np.maximum(WH + sd * rng.randn(*WH.shape), 0.0)


def mixture(k, level, seed, n=N_SAMPLES, m=80):
    rng = np.random.RandomState(seed)
    H = _parts(rng, k, m)
    W = rng.dirichlet(np.full(k, 0.5), size=n) * rng.uniform(0.5, 1.5, (n, 1))
    return _noisy(rng, W @ H, level)


def _clusters(k, level, seed, leak, n=N_SAMPLES, m=80):
    rng = np.random.RandomState(seed)
    H = _parts(rng, k, m)
    y = rng.permutation(np.arange(n) % k)  # every cluster present
    W = leak * rng.uniform(size=(n, k)) ** 2
    W[np.arange(n), y] += rng.uniform(0.5, 1.5, size=n)
    return _noisy(rng, W @ H, level)


def separated(k, level, seed):
    return _clusters(k, level, seed, leak=0.1)


def overlapping(k, level, seed):
    return _clusters(k, level, seed, leak=0.6)


def counts(k, words, seed, n=N_SAMPLES, m=200):
    rng = np.random.RandomState(seed)
    topics = rng.dirichlet(np.full(m, 0.1), size=k)
    y = rng.permutation(np.arange(n) % k)
    theta = 0.3 * rng.dirichlet(np.ones(k), size=n)
    theta[np.arange(n), y] += 0.7
    lengths = rng.poisson(words, size=n) + 1
    X = rng.poisson(lengths[:, None] * (theta @ topics)).astype(np.float64)
    return sp.csr_matrix(X)


GENERATORS = {"mixture": mixture, "separated": separated,
              "overlapping": overlapping, "counts": counts}


# -- criteria --------------------------------------------------------------------
def _information(err, r, n, m, kl):
    """BIC and AIC of a rank-r NMF from its reconstruction_err_."""
    N, p = n * m, r * (n + m)
    D = 0.5 * err ** 2  # the divergence
    fit = 2 * D if kl else N * np.log(max(2 * D, 1e-300) / N)
    return fit + p * np.log(N), fit + 2 * p


def _speckled(est, X, ranks, seed, outer=40, inner=10):
    """Held-out divergence per entry of hidden entries, EM fits (dense)."""
    rng = np.random.RandomState(seed)
    X = X.toarray() if sp.issparse(X) else X
    hidden = rng.uniform(size=X.shape) < SPECKLE_FRACTION
    seen = ~hidden
    col_mean = (X * seen).sum(0) / np.maximum(seen.sum(0), 1)
    kl = est.beta_loss == "kullback-leibler"

    def div(x, y):
        if not kl:
            return 0.5 * np.sum((x - y) ** 2)
        y = np.maximum(y, 1e-30)
        pos = x > 0
        return np.sum(x[pos] * np.log(x[pos] / y[pos])) - x.sum() + y.sum()

    errors = []
    for r in ranks:
        filled = np.where(hidden, col_mean, X)
        model = clone(est).set_params(n_clusters=r)
        W = model.fit_transform(filled)
        H = model.components_
        previous = np.inf
        for _ in range(outer):
            filled = np.where(hidden, W @ H, X)
            model = clone(est).set_params(n_clusters=r, init="custom",
                                          max_iter=inner, tol=0.0)
            W = model.fit_transform(filled, W=W, H=H)
            H = model.components_
            current = div(X[seen], (W @ H)[seen])
            if previous - current <= 1e-5 * current:
                break
            previous = current
        errors.append(div(X[hidden], (W @ H)[hidden]) / hidden.sum())
    return errors


def _baselines(X, ranks, seed):
    Xd = X.toarray() if sp.issparse(X) else X
    sil, gmm = [], []
    for r in ranks:
        labels = KMeans(r, n_init=10, random_state=seed).fit_predict(Xd)
        sil.append(float(silhouette_score(Xd, labels)))
        gmm.append(min(GaussianMixture(r, covariance_type=c, random_state=seed,
                                       reg_covar=1e-4).fit(Xd).bic(Xd)
                       for c in ("spherical", "diag")))
    return {"silhouette": sil, "gmm_bic": gmm}


def estimator_for(gen, method, seed):
    beta = "kullback-leibler" if gen == "counts" else "frobenius"
    if method == "sparse":
        return SparseNMF(beta_loss=beta, random_state=seed), "n_components"
    if method == "graph":
        beta = "frobenius"
    return NMFClusterer(method=method, beta_loss=beta,
                        random_state=seed), "n_clusters"


def evaluate(X, est, param, ranks, seed, *, kl=False, variants=VARIANTS,
             speckled=False, baselines=True):
    """Every criterion at every rank on one data set (see the module notes)."""
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    # past the right rank clusters come out empty, as expected here
    warnings.filterwarnings("ignore", message=".*came out empty")
    start, cpu = time.perf_counter(), time.process_time()
    n, m = X.shape
    folds = list(KFold(N_SPLITS, shuffle=True, random_state=seed).split(X))
    bicv = {f"{s}{q}": np.zeros((len(ranks), N_SPLITS)) for s, q in variants}
    score = np.zeros((len(ranks), N_SPLITS))
    out = {"ranks": list(ranks), "err": [], "cophenetic": [], "pac": [],
           "dispersion": []}
    seeds = np.random.RandomState(seed).randint(2**31 - 1, size=N_RUNS)
    for i, r in enumerate(ranks):
        for j, (train, test) in enumerate(folds):
            model = clone(est).set_params(**{param: r}).fit(X[train])
            for split, q in variants:
                bicv[f"{split}{q}"][i, j] = bicv_score(
                    model, X[test], split=split, n_feature_folds=q)
            score[i, j] = model.score(X[test])
        full = clone(est).set_params(**{param: r}).fit(X)
        out["err"].append(float(full.reconstruction_err_))
        runs = []
        for s in seeds:
            run = clone(est).set_params(**{param: r}, **_survey.run_params(
                est, s, "auto"))
            codes = run.fit_transform(X)
            runs.append(run.labels_ if hasattr(run, "labels_")
                        else np.argmax(codes * np.linalg.norm(
                            run.components_, axis=1), axis=1))
        stats = _consensus.summarize(np.array(runs), r)
        for key in ("cophenetic", "pac", "dispersion"):
            out[key].append(stats[key])
    out["bicv"] = {key: v.tolist() for key, v in bicv.items()}
    out["score"] = score.tolist()
    ics = [_information(e, r, n, m, kl) for e, r in zip(out["err"], ranks)]
    out["bic"], out["aic"] = [b for b, _ in ics], [a for _, a in ics]
    if speckled:
        out["speckled"] = _speckled(est, X, ranks, seed)
    if baselines:
        out.update(_baselines(X, ranks, seed))
    out["seconds"] = time.perf_counter() - start
    out["cpu_seconds"] = time.process_time() - cpu
    return out


def run_case(gen, k, level, seed, method="nmf", ranks=RANKS, **kwargs):
    """One planted case: its data, then :func:`evaluate`."""
    X = GENERATORS[gen](k, level, seed)
    est, param = estimator_for(gen, method, seed)
    out = evaluate(X, est, param, ranks, seed, kl=gen == "counts", **kwargs)
    out.update(gen=gen, k=k, level=level, seed=seed, method=method)
    return out


# -- data with known classes ------------------------------------------------------
def bars(seed, n=500, side=8):
    """Hoyer's bars: 8 x 8 images, each of the 16 bars on with p = 2/16."""
    rng = np.random.RandomState(seed)
    parts = np.zeros((2 * side, side, side))
    for b in range(side):
        parts[b, b, :] = 1.0
        parts[side + b, :, b] = 1.0
    on = rng.uniform(size=(n, 2 * side)) < 2 / 16
    X = np.minimum(on @ parts.reshape(2 * side, -1), 1.0)
    return X + 0.05 * rng.uniform(size=X.shape)


def real_data():
    """(name, X scaled to [0, 1], known count) of the offline data sets."""
    from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
    from sklearn.preprocessing import minmax_scale

    for name, loader in (("digits", load_digits), ("iris", load_iris),
                         ("wine", load_wine),
                         ("breast_cancer", load_breast_cancer)):
        X, y = loader(return_X_y=True)
        yield name, minmax_scale(X), np.unique(y).size, "classes"
    yield "bars", bars(0), 16, "bars (parts)"


# -- rules ---------------------------------------------------------------------
def pick_max(ranks, folds):
    return ranks[int(np.argmax(np.mean(folds, axis=1)))]


def pick_1se(ranks, folds):
    folds = np.asarray(folds)
    mean = folds.mean(axis=1)
    se = folds.std(axis=1, ddof=1) / np.sqrt(folds.shape[1])
    best = int(np.argmax(mean))
    return ranks[int(np.flatnonzero(mean >= mean[best] - se[best])[0])]


def first_drop(ranks, values):
    for i in range(len(values) - 1):
        if values[i + 1] < values[i]:
            return ranks[i]
    return ranks[int(np.argmax(values))]


def choices(case):
    """Rank chosen by every criterion of one case."""
    ranks = case["ranks"]
    chosen = {}
    for key, folds in case["bicv"].items():
        chosen[f"bicv-{key}-max"] = pick_max(ranks, folds)
        chosen[f"bicv-{key}-1se"] = pick_1se(ranks, folds)
    chosen["score"] = pick_max(ranks, case["score"])
    chosen["bic"] = ranks[int(np.argmin(case["bic"]))]
    chosen["aic"] = ranks[int(np.argmin(case["aic"]))]
    chosen["cophenetic"] = first_drop(ranks, case["cophenetic"])
    chosen["cophenetic-max"] = ranks[int(np.argmax(case["cophenetic"]))]
    chosen["dispersion-max"] = ranks[int(np.argmax(case["dispersion"]))]
    chosen["pac"] = ranks[int(np.argmin(case["pac"]))]
    for key, better in (("speckled", np.argmin), ("silhouette", np.argmax),
                        ("gmm_bic", np.argmin)):
        if key in case:
            chosen[key] = ranks[int(better(case[key]))]
    return chosen


# -- the study -------------------------------------------------------------------
def cases(seeds, quick):
    """(generator, k, level, seed) of every case; ``quick``: 4 small cases."""
    ks = range(3, 16) if seeds == "test" else (3, 6, 9, 12, 15)
    base = {"dev": 10_000, "test": 20_000}[seeds]
    for g, gen in enumerate(GENERATORS):
        levels = LEVELS["counts" if gen == "counts" else "continuous"]
        for li, level in enumerate(levels):
            if quick and li != 1:
                continue
            for k in ((5,) if quick else ks):
                yield gen, k, level, base + 1000 * g + 100 * li + k


def summary(results, criteria=None):
    """Markdown table: % exactly right and within one, overall and per generator."""
    picks = [(case, choices(case)) for case in results]
    criteria = criteria or list(picks[0][1])
    gens = list(dict.fromkeys(case["gen"] for case in results))
    head = ["criterion", "exact %", "within 1 %", "mean abs err"]
    head += [f"{g} exact/±1" for g in gens]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    rows = []
    for crit in criteria:
        err = np.array([c[crit] - case["k"] for case, c in picks
                        if crit in c])
        if err.size == 0:
            continue
        row = [crit, f"{100 * np.mean(err == 0):.1f}",
               f"{100 * np.mean(abs(err) <= 1):.1f}",
               f"{np.mean(abs(err)):.2f}"]
        for g in gens:
            e = np.array([c[crit] - case["k"] for case, c in picks
                          if case["gen"] == g and crit in c])
            row.append(f"{100 * np.mean(e == 0):.0f}/"
                       f"{100 * np.mean(abs(e) <= 1):.0f}")
        rows.append((np.mean(err == 0), row))
    lines += ["| " + " | ".join(r) + " |" for _, r in rows]
    return "\n".join(lines)


def by_level(results, criteria):
    picks = [(case, choices(case)) for case in results]
    out = []
    for gen in dict.fromkeys(case["gen"] for case in results):
        levels = list(dict.fromkeys(case["level"] for case in results
                                    if case["gen"] == gen))
        for level in levels:
            sub = [(case, c) for case, c in picks
                   if case["gen"] == gen and case["level"] == level]
            cells = []
            for crit in criteria:
                e = np.array([c[crit] - case["k"] for case, c in sub])
                cells.append(f"{100 * np.mean(e == 0):.0f}/"
                             f"{100 * np.mean(abs(e) <= 1):.0f}")
            out.append(f"| {gen} | {level} | " + " | ".join(cells) + " |")
    head = "| generator | noise | " + " | ".join(criteria) + " |"
    return "\n".join([head, "|" + "---|" * (len(criteria) + 2), *out])


REAL_CRITERIA = ["bicv-balanced2-1se", "bicv-balanced2-max", "score", "aic",
                  "bic", "cophenetic", "cophenetic-max", "pac", "silhouette",
                  "gmm_bic"]


def run_real(name, X, known, what, method, seed=0):
    est = NMFClusterer(method=method, random_state=seed)
    ranks = list(range(2, min(20, X.shape[1]) + 1))
    out = evaluate(X, est, "n_clusters", ranks, seed)
    out.update(data=name, known=known, what=what, method=method)
    return out


def real_table(results):
    head = ["data", "known", "method", *REAL_CRITERIA]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for case in results:
        chosen = choices(case)
        cells = [case["data"], f"{case['known']} {case['what']}",
                 case["method"], *(str(chosen[c]) for c in REAL_CRITERIA)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _run_jobs(jobs, n_jobs, raw, describe, done_before=()):
    """Run ``jobs``, appending each case to ``raw`` as it ends.

    ``done_before``: cases read back from ``raw`` (``--resume``); the file is
    then appended to instead of rewritten.
    """
    results = list(done_before)
    RESULTS.mkdir(exist_ok=True)
    with open(raw, "a" if results else "w") as f:
        done = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
        for i, case in enumerate(done, len(results) + 1):
            results.append(case)
            f.write(json.dumps(case) + "\n")
            f.flush()
            print(f"[{i}] {describe(case)}: {case['seconds']:.1f} s "
                  f"({case['cpu_seconds']:.1f} s CPU)", file=sys.stderr)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", choices=("dev", "test"), default="test")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--real", action="store_true",
                        help="the offline data sets with known classes")
    parser.add_argument("--method", default="nmf",
                        choices=("nmf", "graph", "symmetric", "sparse"))
    parser.add_argument("--only", default=None,
                        help="comma-separated generators")
    parser.add_argument("--speckled", action="store_true")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--variants", choices=("default", "all"),
                        default="default")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", default=None)
    parser.add_argument("--from-results", default=None,
                        help="summarise a .jsonl file instead of running")
    parser.add_argument("--resume", action="store_true",
                        help="keep the cases already in the raw results file "
                             "and run only the others (an interrupted run)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    if args.from_results:
        with open(args.from_results) as f:
            results = [json.loads(line) for line in f]
    elif args.real:
        jobs = [delayed(run_real)(name, X, known, what, method)
                for name, X, known, what in real_data()
                for method in ("nmf", "symmetric")]
        results = _run_jobs(jobs, args.n_jobs, RESULTS / "rank_study_real.jsonl",
                            lambda c: f"{c['data']} {c['method']}")
    else:
        todo = [c for c in cases(args.seeds, args.quick)
                if args.only is None or c[0] in args.only.split(",")]
        quick = "_quick" if args.quick else ""  # never over a full run's file
        raw = RESULTS / f"rank_study_{args.seeds}_{args.method}{quick}.jsonl"
        before = []
        if args.resume and raw.exists():
            with open(raw) as f:
                before = [json.loads(line) for line in f if line.strip()]
            seen = {(c["gen"], c["k"], c["level"], c["seed"]) for c in before}
            todo = [c for c in todo if tuple(c) not in seen]
        print(f"{len(todo)} cases to run ({len(before)} kept), "
              f"method={args.method}", file=sys.stderr)
        variants = ALL_VARIANTS if args.variants == "all" else VARIANTS
        jobs = [delayed(run_case)(*c, method=args.method,
                                  ranks=QUICK_RANKS if args.quick else RANKS,
                                  speckled=args.speckled,
                                  baselines=not args.no_baselines,
                                  variants=variants) for c in todo]
        results = _run_jobs(jobs, args.n_jobs, raw,
                            lambda c: f"{c['gen']} k={c['k']} "
                                      f"level={c['level']}", before)
    elapsed = time.perf_counter() - start
    cpu = sum(case["cpu_seconds"] for case in results if "cpu_seconds" in case)
    per_case = sum(case.get("seconds", 0.0) for case in results)
    if results and "data" in results[0]:
        table = real_table(results)
    else:
        table = summary(results) + "\n\n" + by_level(
            results, [c for c in ("bicv-balanced2-1se", "bicv-balanced2-max",
                                  "aic", "pac", "cophenetic", "silhouette",
                                  "gmm_bic") if c in choices(results[0])])
    text = (f"{len(results)} cases; {elapsed / 60:.1f} min wall clock on this "
            f"run; per case {per_case / 60:.1f} min wall clock and "
            f"{cpu / 60:.1f} min CPU in the workers, in total\n\n{table}\n")
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
