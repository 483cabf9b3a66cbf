"""Choosing the rank without labels: bi-cross-validation, consensus, survey."""

import re

import numpy as np
import pytest
import scipy.sparse as sp
from joblib import parallel_config
from scipy.cluster.hierarchy import cophenet, linkage
from scipy.optimize import nnls
from scipy.spatial.distance import squareform
from sklearn.base import clone
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from sknmfcluster import NMFClusterer, SparseNMF, _bicv, _consensus, _survey
from sknmfcluster.model_selection import (
    BiCVScorer,
    Consensus,
    RankSurvey,
    bicv_score,
    bicv_scorer,
    consensus_clustering,
    plot_rank_survey,
    rank_survey,
)

#: Estimators the scorer must serve, with their rank parameter.
MODELS = [
    (NMFClusterer(method="nmf", random_state=0), "n_clusters"),
    (NMFClusterer(method="nmf", beta_loss="kullback-leibler",
                  random_state=0), "n_clusters"),
    (NMFClusterer(method="graph", random_state=0), "n_clusters"),
    (NMFClusterer(method="symmetric", random_state=0), "n_clusters"),
    (SparseNMF(random_state=0), "n_components"),
]
MODEL_IDS = ["nmf", "nmf-kl", "graph", "symmetric", "sparse"]


def planted(k=3, n=120, m=40, noise=0.1, seed=0):
    """Non-negative rank-k mixtures of sparse parts plus clipped noise."""
    rng = np.random.RandomState(seed)
    H = rng.uniform(size=(k, m)) * (rng.uniform(size=(k, m)) < 0.4)
    H[np.arange(k), np.arange(k)] += 1.0
    W = rng.dirichlet(np.full(k, 0.5), size=n)
    WH = W @ H
    return np.maximum(WH + noise * WH.std() * rng.randn(n, m), 0.0)


def clusters(k=3, n=90, m=12, seed=0):
    """k well-separated clusters: sample i is mostly part i mod k."""
    rng = np.random.RandomState(seed)
    parts = np.eye(k).repeat(m // k, axis=1)
    return parts[np.arange(n) % k] + 0.05 * rng.rand(n, m)


@pytest.fixture(scope="module")
def X_planted():
    return planted()


# -- bi-cross-validation -----------------------------------------------------------
def fit_on_half(model, X, rank, param="n_clusters"):
    return clone(model).set_params(**{param: rank}).fit(X[::2])


def test_bicv_peaks_at_planted_rank_where_score_keeps_rising(X_planted):
    model = NMFClusterer(method="nmf", random_state=0)
    fits = {r: fit_on_half(model, X_planted, r) for r in range(1, 8)}
    held_out = X_planted[1::2]
    bicv = {r: bicv_score(m, held_out) for r, m in fits.items()}
    plain = [fits[r].score(held_out) for r in range(1, 8)]
    assert max(bicv, key=bicv.get) == 3
    assert all(b > a for a, b in zip(plain, plain[1:]))  # the issue


@pytest.mark.parametrize(("model", "param"), MODELS, ids=MODEL_IDS)
def test_bicv_serves_every_model(model, param, X_planted):
    fitted = fit_on_half(model, X_planted, 3, param)
    before = fitted.components_.copy()
    X = X_planted[1::2].copy()
    score = bicv_score(fitted, X)
    assert isinstance(score, float) and np.isfinite(score) and score <= 0
    np.testing.assert_array_equal(fitted.components_, before)
    np.testing.assert_array_equal(X, X_planted[1::2])


@pytest.mark.parametrize(("model", "param"), MODELS[:2] + MODELS[-1:],
                         ids=["nmf", "nmf-kl", "sparse"])
def test_grid_search_recovers_planted_rank(model, param):
    X = planted(k=4, n=150, seed=1)
    search = GridSearchCV(model, {param: [2, 3, 4, 5, 6, 7]},
                          scoring=bicv_scorer,
                          cv=KFold(3, shuffle=True, random_state=0)).fit(X)
    assert search.best_params_[param] == 4


def test_grid_search_through_a_pipeline(X_planted):
    pipe = make_pipeline(MinMaxScaler(clip=True),
                         NMFClusterer(method="nmf", random_state=0))
    search = GridSearchCV(pipe, {"nmfclusterer__n_clusters": [2, 3, 4, 5]},
                          scoring=bicv_scorer, cv=3).fit(X_planted)
    assert search.best_params_["nmfclusterer__n_clusters"] == 3
    fitted = search.best_estimator_
    direct = bicv_score(fitted[-1], fitted[0].transform(X_planted))
    assert bicv_scorer(fitted, X_planted) == pytest.approx(direct)
    unclipped = make_pipeline(MinMaxScaler(), fitted[-1])
    unclipped[0].fit(X_planted[:50])
    with pytest.raises(ValueError, match="clip=True"):
        bicv_score(unclipped, X_planted)


def test_bicv_against_nnls_oracle(X_planted):
    """Codes from the seen features by exact NNLS, squared error on the rest."""
    model = fit_on_half(NMFClusterer(method="nmf", random_state=0),
                        X_planted, 3)
    X = X_planted[1::2]
    H = model.components_
    for split in ("balanced", "norm", "random"):
        groups = _group_of_features(model, X, split)
        total = 0.0
        for g in np.unique(groups):
            held = groups == g
            for x in X:
                w, _ = nnls(H[:, ~held].T, x[~held])
                total += 0.5 * np.sum((x[held] - w @ H[:, held]) ** 2)
        expected = -total / X.size
        assert bicv_score(model, X, split=split) == pytest.approx(
            expected, rel=1e-4)


def _group_of_features(model, X, split):
    return _bicv.feature_groups(X, model.components_, 2, split, 0)


def test_bicv_kl_against_oracle():
    """KL: codes minimising the divergence on the seen features (L-BFGS-B),
    generalized KL of the prediction of the others, per entry."""
    from scipy.optimize import minimize

    rng = np.random.RandomState(0)
    X = rng.poisson(rng.dirichlet(np.ones(3), 50)
                    @ rng.dirichlet(np.full(16, 0.5), 3) * 80).astype(float)
    model = NMFClusterer(3, method="nmf", beta_loss="kullback-leibler",
                         random_state=0).fit(X)
    X = X[:12]
    H = model.components_
    groups = _group_of_features(model, X, "balanced")

    def kl(x, y):
        y = np.maximum(y, 1e-30)
        pos = x > 0
        return np.sum(x[pos] * np.log(x[pos] / y[pos])) - x.sum() + y.sum()

    total = 0.0
    for g in (0, 1):
        held = groups == g
        for x in X:
            w = minimize(lambda w: kl(x[~held], w @ H[:, ~held]),
                         np.ones(3), bounds=[(0, None)] * 3,
                         method="L-BFGS-B", options={"ftol": 1e-14}).x
            total += kl(x[held], w @ H[:, held])
    assert bicv_score(model, X) == pytest.approx(-total / X.size, rel=1e-3)


def test_bicv_is_a_mean_over_samples_and_entries(X_planted):
    """Each sample is scored on its own; the score is per held-out entry."""
    model = fit_on_half(NMFClusterer(method="nmf", random_state=0),
                        X_planted, 3)
    A, B = X_planted[1:21:2], X_planted[21::2]
    whole = bicv_score(model, np.vstack([A, B]))
    parts = (len(A) * bicv_score(model, A) + len(B) * bicv_score(model, B))
    assert whole == pytest.approx(parts / (len(A) + len(B)), rel=1e-6)


@pytest.mark.parametrize("split", ["balanced", "norm", "random"])
def test_bicv_dense_equals_csr(split, X_planted):
    model = fit_on_half(NMFClusterer(method="nmf", random_state=0),
                        X_planted, 3)
    X = X_planted[1::2] * (X_planted[1::2] > 0.2)
    assert bicv_score(model, sp.csr_matrix(X), split=split) == pytest.approx(
        bicv_score(model, X, split=split), rel=1e-6)


def test_bicv_float32(X_planted):
    from copy import deepcopy

    X = X_planted.astype(np.float32)
    model = fit_on_half(NMFClusterer(method="nmf", random_state=0), X, 3)
    assert model.components_.dtype == np.float32
    as64 = deepcopy(model)
    as64.components_ = model.components_.astype(np.float64)
    assert bicv_score(model, X[1::2]) == pytest.approx(
        bicv_score(as64, X_planted[1::2]), rel=1e-4)


def _with_missing(X, fraction=0.1, seed=0):
    X = X.copy()
    X[np.random.RandomState(seed).uniform(size=X.shape) < fraction] = np.nan
    return X


def test_bicv_missing_values_against_nnls_oracle(X_planted):
    """NaN entries are left out of the code solves and of the mean."""
    model = fit_on_half(NMFClusterer(method="nmf", random_state=0),
                        X_planted, 3)
    X = _with_missing(X_planted[1::2])
    H = model.components_
    for split in ("balanced", "norm", "random"):
        groups = _bicv.feature_groups(X, H, 2, split, 0)
        total = 0.0
        for g in (0, 1):
            held = groups == g
            for x in X:
                seen = ~held & ~np.isnan(x)
                scored = held & ~np.isnan(x)
                w, _ = nnls(H[:, seen].T, x[seen])
                total += 0.5 * np.sum((x[scored] - w @ H[:, scored]) ** 2)
        expected = -total / np.count_nonzero(~np.isnan(X))
        assert bicv_score(model, X, split=split) == pytest.approx(
            expected, rel=1e-4)


@pytest.mark.parametrize("beta_loss", ["frobenius", "kullback-leibler"])
def test_bicv_missing_dense_equals_stored_nan_in_csr(beta_loss, X_planted):
    model = fit_on_half(NMFClusterer(method="nmf", beta_loss=beta_loss,
                                     random_state=0), X_planted, 3)
    X = _with_missing(X_planted[1::2] * (X_planted[1::2] > 0.2), seed=1)
    score = bicv_score(model, X)
    assert np.isfinite(score)
    assert bicv_score(model, sp.csr_matrix(X)) == pytest.approx(score,
                                                                rel=1e-6)


def test_bicv_missing_values_errors(X_planted):
    model = NMFClusterer(2, method="nmf", random_state=0).fit(X_planted)
    X = _with_missing(X_planted)
    X[0, np.flatnonzero(~np.isnan(X[0]))[0]] = -1.0
    with pytest.raises(ValueError, match="Negative"):
        bicv_score(model, X)
    with pytest.raises(ValueError, match="no observed entry"):
        bicv_score(model, np.full_like(X_planted[:3], np.nan))


def test_grid_search_with_missing_values_recovers_planted_rank():
    X = _with_missing(planted(k=4, n=150, seed=1), fraction=0.05)
    search = GridSearchCV(NMFClusterer(method="nmf", random_state=0),
                          {"n_clusters": [2, 3, 4, 5, 6, 7]},
                          scoring=bicv_scorer,
                          cv=KFold(3, shuffle=True, random_state=0)).fit(X)
    assert search.best_params_["n_clusters"] == 4


def test_balanced_split_shares_every_component():
    rng = np.random.RandomState(0)
    H = rng.uniform(size=(6, 31)) * (rng.uniform(size=(6, 31)) < 0.3)
    for n_groups in (2, 3):
        groups = _bicv.balanced_groups(H, n_groups)
        sizes = np.bincount(groups, minlength=n_groups)
        assert sizes.max() - sizes.min() <= 1
        shares = np.stack([H[:, groups == g].sum(axis=1)
                           for g in range(n_groups)]) / H.sum(axis=1)
        # Each group holds a fair share of every component's mass (a random
        # split of 31 features leaves some component with under 15 % here).
        assert shares.min() > 0.6 / n_groups


def test_scorer_object():
    scorer = BiCVScorer(n_feature_folds=3, split="random", random_state=1)
    assert "n_feature_folds=3" in repr(scorer)
    X = planted()
    model = NMFClusterer(3, method="nmf", random_state=0).fit(X)
    assert scorer(model, X) == bicv_score(model, X, n_feature_folds=3,
                                          split="random", random_state=1)


def test_bicv_errors(X_planted):
    with pytest.raises(NotFittedError):
        bicv_score(NMFClusterer(method="nmf"), X_planted)
    model = NMFClusterer(2, method="nmf", random_state=0).fit(X_planted)
    with pytest.raises(ValueError, match="Negative"):
        bicv_score(model, -X_planted)
    with pytest.raises(ValueError, match="features"):
        bicv_score(model, X_planted[:, :5])
    with pytest.raises(ValueError, match="n_feature_folds"):
        bicv_score(model, X_planted, n_feature_folds=1)
    with pytest.raises(ValueError, match="split"):
        bicv_score(model, X_planted, split="halves")
    itakura = NMF(2, beta_loss="itakura-saito", solver="mu", init="random",
                  max_iter=20, random_state=0).fit(X_planted + 0.1)
    with pytest.raises(ValueError, match="itakura-saito"):
        bicv_score(itakura, X_planted + 0.1)


def test_bicv_scores_scikit_learn_nmf(X_planted):
    fitted = NMF(3, init="nndsvda", max_iter=500, random_state=0).fit(
        X_planted[::2])
    assert np.isfinite(bicv_score(fitted, X_planted[1::2]))


# -- consensus ---------------------------------------------------------------------
def dense_consensus(runs):
    runs = _consensus.canonical_labels(runs)
    return np.mean([r[:, None] == r[None, :] for r in runs], axis=0)


@pytest.fixture(scope="module")
def noisy_runs():
    """Ten runs of a 4-cluster labelling of 150 samples, 15 % relabelled."""
    rng = np.random.RandomState(0)
    truth = np.arange(150) % 4
    runs = []
    for _ in range(10):
        labels = rng.permutation(4)[truth]
        flip = rng.uniform(size=150) < 0.15
        labels[flip] = rng.randint(4, size=flip.sum())
        runs.append(labels)
    return np.array(runs), truth


def test_consensus_statistics_match_the_dense_matrix(noisy_runs):
    runs, _ = noisy_runs
    C = dense_consensus(runs)
    consensus = Consensus(runs, 4)
    assert consensus.exact
    assert consensus.dispersion == pytest.approx(np.mean(4 * (C - 0.5) ** 2))
    pairs = squareform(C, checks=False)
    assert consensus.pac == pytest.approx(
        np.mean((pairs > 0.1) & (pairs <= 0.9)))
    d = squareform(1 - C, checks=False)
    assert consensus.cophenetic == pytest.approx(
        cophenet(linkage(d, "average"), d)[0])
    np.testing.assert_allclose(consensus.consensus_matrix(), C, atol=1e-6)


def test_consensus_above_max_samples_estimates_within_its_error(noisy_runs):
    runs, truth = noisy_runs
    exact = Consensus(runs, 4)
    sampled = Consensus(runs, 4, max_samples=60, n_pairs=20_000,
                        random_state=0)
    assert not sampled.exact and sampled.sample.size == 60
    assert sampled.pac_se > 0
    assert abs(sampled.pac - exact.pac) < 4 * sampled.pac_se
    assert sampled.dispersion == exact.dispersion  # always exact
    assert abs(sampled.cophenetic - exact.cophenetic) < 0.05
    # Labels outside the subsample come from co-clustering counts.
    from sklearn.metrics import adjusted_rand_score
    assert adjusted_rand_score(truth, sampled.labels) == 1.0
    assert adjusted_rand_score(truth, exact.labels) == 1.0


def test_consensus_label_names_do_not_matter(noisy_runs):
    runs, _ = noisy_runs
    renamed = np.array([np.array([7, -5, 30, 2])[r] for r in runs])
    a, b = Consensus(runs, 4), Consensus(renamed, 4)
    assert (a.cophenetic, a.dispersion, a.pac) == (
        b.cophenetic, b.dispersion, b.pac)


def test_unassigned_samples_are_never_together():
    runs = np.array([[0, 0, -1, -1], [0, 0, -1, -1]])
    C = Consensus(runs, 2).consensus_matrix()
    np.testing.assert_array_equal(C, [[1, 1, 0, 0], [1, 1, 0, 0],
                                      [0, 0, 1, 0], [0, 0, 0, 1]])


def test_perfect_consensus():
    runs = np.array([[0, 0, 1, 1, 2], [1, 1, 2, 2, 0], [2, 2, 0, 0, 1]])
    consensus = Consensus(runs)
    assert consensus.n_clusters == 3
    assert (consensus.cophenetic, consensus.dispersion, consensus.pac) == (
        1.0, 1.0, 0.0)


def test_consensus_errors():
    with pytest.raises(ValueError, match="n_runs, n_samples"):
        Consensus([0, 1, 1])
    runs = np.zeros((2, 3000), dtype=int)
    with pytest.raises(ValueError, match="indices"):
        Consensus(runs, 1, max_samples=100).consensus_matrix()
    # regression: these failed in SciPy or NumPy, after every run was fitted
    for bad in (1, 0, -1, 2.5):
        with pytest.raises(ValueError, match="max_samples must be an integer "
                                             ">= 2"):
            Consensus(runs, 1, max_samples=bad)
        with pytest.raises(ValueError, match="max_samples must be"):
            consensus_clustering(NMFClusterer(3, method="nmf"), clusters(),
                                 n_runs=2, max_samples=bad)
    with pytest.raises(ValueError, match="n_pairs must be an integer >= 1"):
        Consensus(runs, 1, max_samples=100, n_pairs=0)


def test_consensus_clustering_is_reproducible_and_leaves_inputs_alone():
    X = clusters()
    X_before = X.copy()
    model = NMFClusterer(3, method="nmf")
    a = consensus_clustering(model, X, n_runs=4, random_state=0)
    with parallel_config(backend="threading"):
        b = consensus_clustering(model, X, n_runs=4, random_state=0,
                                 n_jobs=2)
    assert (a.cophenetic, a.dispersion, a.pac) == (
        b.cophenetic, b.dispersion, b.pac)
    assert a.pac == 0.0 and a.dispersion == 1.0
    np.testing.assert_array_equal(X, X_before)
    assert model.get_params()["init"] is None
    assert not hasattr(model, "components_")


@pytest.mark.parametrize(("model", "expected"), [
    (NMFClusterer(method="nmf"), "random"),
    (NMFClusterer(method="nmf", init="nndsvda"), "random"),
    (NMFClusterer(method="nmf", init="nndsvdar"), "nndsvdar"),
    (NMFClusterer(), None),  # the seeded spectral start of "symmetric"
    (NMFClusterer(init="random"), "random"),
    (SparseNMF(), "random"),
])
def test_restarts_differ_from_seed_to_seed(model, expected):
    params = _survey.run_params(model, 7, "auto")
    assert params == {"random_state": 7, "init": expected}
    piped = _survey.run_params(make_pipeline(MinMaxScaler(), model), 7, "auto")
    step = type(model).__name__.lower()
    assert piped == {f"{step}__random_state": 7, f"{step}__init": expected}
    assert _survey.run_params(model, 7, None) == {"random_state": 7}


def test_consensus_of_a_model_without_labels():
    consensus = consensus_clustering(SparseNMF(3), clusters(), n_runs=3,
                                     random_state=0)
    assert consensus.n_clusters == 3 and consensus.pac == 0.0


def test_unstable_rank_is_less_stable():
    """Five clusters asked of three-cluster data split them differently."""
    X = clusters(k=3, n=120)
    right = consensus_clustering(NMFClusterer(3, method="nmf"), X, n_runs=6,
                                 random_state=0)
    wrong = consensus_clustering(NMFClusterer(5, method="nmf"), X, n_runs=6,
                                 random_state=0)
    assert right.pac < wrong.pac
    assert right.dispersion > wrong.dispersion


# -- rank survey -------------------------------------------------------------------
@pytest.fixture(scope="module")
def survey():
    X = planted(k=3, n=120, m=30, seed=2)
    return rank_survey(NMFClusterer(method="nmf"), X, [4, 2, 3, 5], cv=3,
                       n_runs=3, random_state=0)


def test_survey_finds_planted_rank(survey):
    assert isinstance(survey, RankSurvey)
    assert survey.best_rank == 3
    np.testing.assert_array_equal(survey.ranks, [2, 3, 4, 5])
    assert survey.rule.startswith("rank 3: the best mean held-out score")
    assert survey.best_rank == survey.ranks[np.argmax(
        survey.table["cv_score_mean"])]
    table = survey.table
    assert set(table) == {"rank", "cv_score_mean", "cv_score_std",
                          "cophenetic", "dispersion", "pac",
                          "reconstruction_err", "fit_time"}
    assert all(np.isfinite(v).all() for v in table.values())
    assert np.all(np.diff(table["reconstruction_err"]) < 0)
    assert survey.cv_scores.shape == (4, 3)
    np.testing.assert_allclose(survey.cv_scores.mean(axis=1),
                               table["cv_score_mean"])


def test_survey_frame_repr_and_plot(survey):
    frame = survey.to_frame()
    assert list(frame.index) == [2, 3, 4, 5]
    assert frame.loc[3, "cv_score_mean"] == survey.table["cv_score_mean"][1]
    text = repr(survey)
    assert "best_rank=3" in text and "cophenetic" in text
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    fig = plot_rank_survey(survey)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 6
    assert all(any(line.get_xdata()[0] == 3 for line in ax.lines
                   if len(line.get_xdata()) == 2) for ax in visible)
    with pytest.raises(ValueError, match="Unknown columns"):
        plot_rank_survey(survey, columns=["silhouette"])


def test_survey_is_reproducible_and_leaves_inputs_alone():
    X = planted(k=2, n=60, m=20, seed=3)
    X_before = X.copy()
    model = SparseNMF()
    kwargs = dict(cv=2, n_runs=2, random_state=0)
    a = rank_survey(model, X, [1, 2, 3], **kwargs)
    b = rank_survey(model, X, [1, 2, 3], n_jobs=2, **kwargs)
    assert a.rank_param == "n_components"
    for column in ("cv_score_mean", "cophenetic", "pac",
                   "reconstruction_err"):
        np.testing.assert_array_equal(a.table[column], b.table[column])
    np.testing.assert_array_equal(X, X_before)
    assert model.get_params() == SparseNMF().get_params()


def test_survey_without_restarts_and_progress(capsys):
    X = planted(k=2, n=60, m=20, seed=3)
    survey = rank_survey(NMFClusterer(method="nmf"), X, [1, 2, 3], cv=2,
                         n_runs=0, random_state=0, verbose=1)
    assert np.isnan(survey.table["cophenetic"]).all()
    err = capsys.readouterr().err
    assert re.search(r"rank 2: held-out score", err)
    assert "rank survey" in err and "done in" in err
    fig = survey.plot()
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 3


def test_survey_summarises_the_warnings_of_its_fits():
    """One warning per rank and category, not one per fit."""
    X = planted(k=2, n=60, m=20, seed=3)
    with pytest.warns(ConvergenceWarning) as record:
        rank_survey(NMFClusterer(method="nmf", max_iter=2), X, [2, 3], cv=2,
                    n_runs=2, random_state=0)
    convergence = [w for w in record
                   if issubclass(w.category, ConvergenceWarning)]
    assert [str(w.message).split(":")[0] for w in convergence] == [
        "rank 2", "rank 3"]
    for w in convergence:
        # 2 splits, 1 full fit, 2 restarts: every fit stopped at max_iter
        assert w.message.n_fits == 5 and w.message.count == 5
        assert "5 warning(s) from 5 fits, the first: Maximum number" in str(
            w.message)
        assert w.filename == __file__
    with pytest.warns(ConvergenceWarning, match="consensus_clustering: 3 "
                      r"warning\(s\) from 3 fits") as record:
        consensus_clustering(NMFClusterer(2, method="nmf", max_iter=2), X,
                             n_runs=3, random_state=0)
    assert len(record) == 1


@pytest.mark.parametrize(("ranks", "match"), [([], "non-empty"),
                                              ([0, 2], "integers"),
                                              ([1.5], "integers")])
def test_survey_rejects_bad_ranks(ranks, match):
    with pytest.raises(ValueError, match=match):
        rank_survey(NMFClusterer(method="nmf"), planted(), ranks)


def test_survey_needs_a_rank_parameter():
    with pytest.raises(ValueError, match="rank_param"):
        rank_survey(MinMaxScaler(), planted(), [2])


def test_survey_of_a_pipeline_on_sparse_counts():
    rng = np.random.RandomState(0)
    counts = rng.poisson(rng.dirichlet(np.full(3, 0.3), 90)
                         @ rng.dirichlet(np.full(30, 0.2), 3) * 60)
    X = sp.csr_matrix(counts.astype(float))
    pipe = make_pipeline(MinMaxScaler(clip=True),
                         NMFClusterer(method="nmf", random_state=0))
    survey = rank_survey(make_pipeline(NMFClusterer(
        method="nmf", beta_loss="kullback-leibler")), X, [2, 3, 4, 5],
        cv=3, n_runs=2, random_state=0)
    assert survey.rank_param == "nmfclusterer__n_clusters"
    assert survey.best_rank == 3
    dense = rank_survey(pipe, counts.astype(float), [2, 3], cv=2, n_runs=0,
                        random_state=0)
    assert dense.rank_param == "nmfclusterer__n_clusters"


def test_survey_with_another_scoring_and_splitter(X_planted):
    """The estimator's own score as ``scoring`` picks the largest rank."""
    survey = rank_survey(NMFClusterer(method="nmf"), X_planted, [2, 3, 4, 5],
                         cv=KFold(3), n_runs=0, random_state=0,
                         scoring=lambda est, X, y=None: est.score(X))
    assert survey.best_rank == 5
    assert survey.cv_scores.shape == (4, 3)
