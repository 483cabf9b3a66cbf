"""Choosing the rank without labels: bi-cross-validation, consensus, a survey.

- :func:`bicv_score` and :data:`bicv_scorer`: a held-out score that
  ``GridSearchCV`` can maximise over the rank without labels (Owen & Perry's
  bi-cross-validation).
- :func:`consensus_clustering` and :class:`Consensus`: the consensus of the
  labels of many restarts, with its cophenetic correlation, dispersion and
  proportion of ambiguous clustering (Brunet et al. 2004).
- :func:`rank_survey`, :class:`RankSurvey` and :func:`plot_rank_survey`: all
  of them over a range of ranks, and the rank they choose.

Read more in the User Guide (choosing the number of clusters).
"""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.metrics import check_scoring
from sklearn.model_selection import KFold, check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted

from . import _bicv, _consensus, _losses, _problems, _progress, _storage, _survey

__all__ = [
    "BiCVScorer",
    "Consensus",
    "RankSurvey",
    "bicv_score",
    "bicv_scorer",
    "consensus_clustering",
    "plot_rank_survey",
    "rank_survey",
]

#: Steps and tolerance of the scorer's code solves. Every rank's codes are
#: solved to the same precision, whatever ``max_iter`` and ``tol`` the model
#: was fitted with, so that the score compares ranks, not solver budgets.
#: Coordinate descent (Frobenius) stops after a few dozen steps; the
#: multiplicative updates of Kullback-Leibler need the thousands (measured:
#: 500 steps left the score 0.2 % from its limit, 2,000 steps 0.01 %).
CODES_MAX_ITER = 2000
CODES_TOL = 1e-6


# -- the engine, called from here only ------------------------------------------
def _engine_codes(X, H, beta):
    """Non-negative codes ``W`` minimising ``D_beta(X || W H)`` with ``H`` fixed.

    The one call of this module into the engine: coordinate descent for the
    Frobenius loss, multiplicative updates for Kullback-Leibler, every row on
    its own from the same constant start (``X`` and ``H`` of one dtype).
    NaN in ``X`` are missing values, left out of the solves.
    """
    values = X.data if sp.issparse(X) else X
    missing = int(np.count_nonzero(np.isnan(values)))
    mean_x = float(np.nansum(values, dtype=np.float64)) / max(
        X.shape[0] * X.shape[1] - missing, 1)
    mean_h = float(H.mean(dtype=np.float64)) or 1.0
    w0 = max(mean_x / (mean_h * H.shape[0]), float(np.finfo(H.dtype).tiny))
    return _problems.solve_codes(
        _storage.prepare(X), H, _losses.Loss(beta), H.dtype.type(w0),
        max_iter=CODES_MAX_ITER, tol=CODES_TOL,
        solver="cd" if beta == 2.0 else "mu")


# -- bi-cross-validation ----------------------------------------------------------
def bicv_score(estimator, X, y=None, *, n_feature_folds=2, split="balanced",
               random_state=0):
    r"""Bi-cross-validated score of a fitted NMF on held-out samples.

    Owen & Perry's bi-cross-validation (2009), fitted to scikit-learn's
    sample splits: the components :math:`H` were learned from the training
    samples; here the features are dealt into ``n_feature_folds`` groups
    and, for each group :math:`B` in turn, the codes of the held-out samples
    ``X`` are solved from the *other* features :math:`A` only, with
    :math:`H_A` fixed, and used to predict the features of :math:`B`:

    .. math::

        w_i = \arg\min_{w \ge 0} D_\beta(x_{iA} \,\|\, w H_A), \qquad
        \hat x_{iB} = w_i H_B .

    Every entry of ``X`` is predicted once, by a model that has seen neither
    it (the codes) nor its sample (the components). The score is minus the
    mean divergence per entry (the model's ``beta_loss``), so higher is
    better. Unlike ``score``, whose codes are fitted to the very entries
    they are judged on, extra components cannot help here by fitting noise:
    codes fitted to the noise of :math:`A` predict :math:`B` worse. The
    score rises to a maximum near the rank of the structure in the data and
    falls after it, which is what ``GridSearchCV`` needs to choose the rank
    without labels.

    The codes are solved to a fixed precision (``CODES_MAX_ITER`` steps or
    relative change ``CODES_TOL``), coordinate descent for the Frobenius loss
    and multiplicative updates for Kullback-Leibler, whatever ``solver``,
    penalties or sparseness targets the model was fitted with: the score
    measures the components. Each sample is scored on its own.

    Parameters
    ----------
    estimator : estimator or Pipeline
        A fitted model with ``components_`` of shape ``(n_components,
        n_features)``: :class:`~sknmfcluster.NMFClusterer` (every
        ``method``), :class:`~sknmfcluster.SparseNMF`, or
        :class:`sklearn.decomposition.NMF`; or a pipeline ending in one,
        whose other steps transform ``X`` first. ``beta_loss`` must be
        ``"frobenius"`` or ``"kullback-leibler"``. Not modified.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Held-out non-negative samples. NaN marks a missing value (in sparse
        input, a stored NaN): it is left out of the code solves and of the
        score, which is then the mean over the observed entries.
    y : Ignored
        Not used, present for the scorer API.
    n_feature_folds : int, default=2
        Number of feature groups, each predicted in turn from the others.
        Two gives the sharpest peak; more groups give each code solve more
        features (fewer failures when ``n_features`` is close to the rank)
        but a flatter curve past the right rank.
    split : {"balanced", "norm", "random"}, default="balanced"
        How the features are dealt into groups. ``"balanced"`` deals them
        so that every component keeps a fair share of its mass in every
        group (from the components alone, not the data): a component whose
        features all fell into one group could not be solved for from the
        others, and its codes would blow up. ``"norm"`` deals them in order
        of decreasing norm in ``X``, ``"random"`` after a random permutation
        (both seeded by ``random_state``).
    random_state : int, default=0
        Seed of the ``"norm"`` and ``"random"`` splits. Keep it fixed so
        that every candidate rank is scored on the same split.

    Returns
    -------
    score : float
        Minus the mean divergence per held-out entry (per observed entry
        when ``X`` has missing values); at most 0.

    See Also
    --------
    bicv_scorer : This score as a scorer for ``GridSearchCV``.
    rank_survey : The score with the consensus criteria over a range of
        ranks, and the rank they choose.

    Notes
    -----
    Owen & Perry hold out a block of samples and features and refit the
    factors on the rest; Kanagal & Sindhwani (2010) apply the idea to NMF.
    Here the components come from the training samples with all features,
    so one fit per sample split serves every feature group, and the score
    plugs into scikit-learn's cross-validation. At least
    ``n_feature_folds`` features are needed; the codes are well determined
    when the features seen (about ``n_features * (1 - 1 / n_feature_folds)``)
    clearly outnumber the rank.

    References
    ----------
    A. B. Owen and P. O. Perry, "Bi-cross-validation of the SVD and the
    nonnegative matrix factorization", Annals of Applied Statistics 3(2),
    2009.

    L. Kanagal and V. Sindhwani, "Rank selection in low-rank matrix
    approximations: a study of cross-validation for NMFs", NIPS workshop,
    2010.

    Examples
    --------
    >>> import numpy as np
    >>> from sknmfcluster import NMFClusterer
    >>> from sknmfcluster.model_selection import bicv_score
    >>> rng = np.random.RandomState(0)
    >>> H = rng.uniform(size=(3, 30)) * (rng.uniform(size=(3, 30)) < 0.4)
    >>> X = rng.dirichlet([0.5] * 3, size=200) @ H + 0.01 * rng.rand(200, 30)
    >>> scores = {k: bicv_score(NMFClusterer(k, method="nmf", random_state=0)
    ...                         .fit(X[:150]), X[150:]) for k in range(1, 7)}
    >>> max(scores, key=scores.get)
    3
    """
    if not (isinstance(n_feature_folds, Integral) and n_feature_folds >= 2):
        raise ValueError("n_feature_folds must be an integer >= 2, got "
                         f"{n_feature_folds!r}.")
    if split not in _bicv.SPLITS:
        raise ValueError(f"split must be one of {_bicv.SPLITS}, got {split!r}.")
    model = estimator
    if isinstance(estimator, Pipeline):
        model = estimator[-1]
        if len(estimator) > 1:
            X = estimator[:-1].transform(X)
    check_is_fitted(model, "components_")
    H = np.asarray(model.components_)
    beta = _bicv.beta_of(model)
    X = check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32],
                    ensure_all_finite="allow-nan", input_name="X")
    values = X.data if sp.issparse(X) else X
    with np.errstate(invalid="ignore"):
        negative = bool(np.any(values < 0))  # NaN (missing) compare False
    if negative:
        hint = (" A pipeline's scaler fitted on the training samples can make "
                "held-out values negative: use MinMaxScaler(clip=True)."
                if model is not estimator else "")
        raise ValueError("Negative values in data passed to bicv_score." + hint)
    n, m = X.shape
    observed = n * m - int(np.count_nonzero(np.isnan(values)))
    if observed == 0:
        raise ValueError("X has no observed entry (every value is NaN, "
                         "missing): there is nothing to score.")
    if m != H.shape[1]:
        raise ValueError(f"X has {m} features, but the model was fitted with "
                         f"{H.shape[1]}.")
    if m < n_feature_folds:
        raise ValueError(f"Bi-cross-validation splits the features into "
                         f"n_feature_folds={n_feature_folds} groups; X has "
                         f"only {m} features.")
    X = X.astype(H.dtype, copy=False)
    groups = _bicv.feature_groups(X, H, n_feature_folds, split, random_state)
    total = 0.0
    for g in range(n_feature_folds):
        held, seen = groups == g, groups != g
        W = _engine_codes(X[:, seen], np.ascontiguousarray(H[:, seen]), beta)
        total += _bicv.divergence_sum(X[:, held], W,
                                      np.ascontiguousarray(H[:, held]), beta)
    return -total / observed


class BiCVScorer:
    """Bi-cross-validation as a scorer for ``GridSearchCV(scoring=...)``.

    ``scorer(estimator, X, y=None)`` returns :func:`bicv_score` of the fitted
    ``estimator`` on the held-out ``X``, so that a search over the rank
    without labels finds the rank of the data instead of the largest one.
    :data:`bicv_scorer` is the instance with the default parameters.

    Parameters
    ----------
    n_feature_folds : int, default=2
        See :func:`bicv_score`.
    split : {"balanced", "norm", "random"}, default="balanced"
        See :func:`bicv_score`.
    random_state : int, default=0
        See :func:`bicv_score`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sknmfcluster import NMFClusterer
    >>> from sknmfcluster.model_selection import bicv_scorer
    >>> rng = np.random.RandomState(0)
    >>> H = rng.uniform(size=(4, 30)) * (rng.uniform(size=(4, 30)) < 0.4)
    >>> X = rng.dirichlet([0.5] * 4, size=200) @ H + 0.01 * rng.rand(200, 30)
    >>> search = GridSearchCV(NMFClusterer(method="nmf", random_state=0),
    ...                       {"n_clusters": range(2, 9)},
    ...                       scoring=bicv_scorer).fit(X)
    >>> search.best_params_
    {'n_clusters': 4}
    """

    def __init__(self, *, n_feature_folds=2, split="balanced", random_state=0):
        self.n_feature_folds = n_feature_folds
        self.split = split
        self.random_state = random_state

    def __call__(self, estimator, X, y=None):
        return bicv_score(estimator, X, n_feature_folds=self.n_feature_folds,
                          split=self.split, random_state=self.random_state)

    def __repr__(self):
        return (f"BiCVScorer(n_feature_folds={self.n_feature_folds}, "
                f"split={self.split!r}, random_state={self.random_state})")


#: :class:`BiCVScorer` with the default parameters: pass it as
#: ``GridSearchCV(scoring=bicv_scorer)`` to search the rank without labels.
bicv_scorer = BiCVScorer()


# -- consensus clustering -------------------------------------------------------
class Consensus:
    """Consensus of several clusterings of the same samples.

    ``C[i, j]``, the consensus of samples ``i`` and ``j``, is the fraction of
    the clusterings (runs) that put them in the same cluster (Monti et al.
    2003; Brunet et al. 2004). A rank at which NMF finds real structure
    gives nearly the same clusters from every start, so ``C`` is close to 0
    or 1 everywhere. Its summaries are computed from the labels without
    forming ``C`` for more than ``max_samples`` samples:

    - ``cophenetic``: the correlation between ``1 - C`` and the distances of
      its average-linkage tree (Brunet et al.); 1 for a perfect consensus.
      Above ``max_samples`` samples, that of a random subsample of
      ``max_samples`` samples.
    - ``dispersion``: the mean of ``4 (C - 1/2)^2`` over all pairs (Kim &
      Park 2007); 1 for a perfect consensus. Always exact.
    - ``pac``: the proportion of ambiguous clustering, the fraction of pairs
      with ``0.1 < C <= 0.9`` (Senbabaoglu et al. 2014); 0 for a perfect
      consensus. Exact up to ``max_samples`` samples, estimated from
      ``n_pairs`` independent random pairs above (standard error ``pac_se``).

    A sample labelled ``-1`` (no cluster) in a run is co-clustered with no
    other sample in that run.

    Parameters
    ----------
    label_runs : array-like of shape (n_runs, n_samples)
        Cluster labels of the same samples from each run.
    n_clusters : int, default=None
        Number of consensus clusters in ``labels``. ``None`` means the
        median number of clusters of the runs.
    max_samples : int, default=2000
        Largest number of samples whose consensus matrix is formed (as
        float32, ``max_samples^2`` entries); at least 2.
    n_pairs : int, default=1_000_000
        Random pairs for the PAC above ``max_samples`` samples.
    random_state : int, RandomState instance or None, default=None
        Seed of the subsample and of the random pairs (only used above
        ``max_samples`` samples).

    Attributes
    ----------
    n_runs, n_samples : int
        Shape of the runs.
    cophenetic, dispersion, pac : float
        See above.
    pac_se : float
        Standard error of ``pac``: 0 when it is exact.
    labels : ndarray of shape (n_samples,)
        Consensus clusters: the average-linkage tree of ``1 - C`` cut into
        ``n_clusters``; above ``max_samples`` samples the tree of the
        subsample, and every other sample in the cluster whose subsampled
        members it is co-clustered with most on average.
    sample : ndarray of int
        The samples the tree was built on (all of them when ``exact``).
    exact : bool
        Whether every pair was used (``n_samples <= max_samples``).

    See Also
    --------
    consensus_clustering : The runs of an estimator and their consensus.

    References
    ----------
    J.-P. Brunet, P. Tamayo, T. R. Golub and J. P. Mesirov, "Metagenes and
    molecular pattern discovery using matrix factorization", PNAS 101(12),
    2004.

    S. Monti, P. Tamayo, J. Mesirov and T. Golub, "Consensus clustering",
    Machine Learning 52, 2003.

    H. Kim and H. Park, "Sparse non-negative matrix factorizations via
    alternating non-negativity-constrained least squares",
    Bioinformatics 23(12), 2007.

    Y. Senbabaoglu, G. Michailidis and J. Z. Li, "Critical limitations of
    consensus clustering in class discovery", Scientific Reports 4, 2014.

    Examples
    --------
    >>> from sknmfcluster.model_selection import Consensus
    >>> runs = [[0, 0, 1, 1, 2, 2],
    ...         [1, 1, 0, 0, 2, 2],
    ...         [0, 0, 1, 1, 1, 1]]
    >>> consensus = Consensus(runs, n_clusters=3)
    >>> consensus.labels
    array([0, 0, 1, 1, 2, 2])
    >>> round(consensus.pac, 3)
    0.267
    """

    def __init__(self, label_runs, n_clusters=None, *,
                 max_samples=_consensus.MAX_SAMPLES,
                 n_pairs=_consensus.N_PAIRS, random_state=None):
        _survey.check_count(max_samples, "max_samples", low=2)
        _survey.check_count(n_pairs, "n_pairs")
        runs = _consensus.canonical_labels(label_runs)
        if n_clusters is None:
            n_clusters = int(np.median([labels.max() + 1 for labels in runs]))
        stats = _consensus.summarize(runs, n_clusters, max_samples=max_samples,
                                     n_pairs=n_pairs, random_state=random_state)
        self.n_runs, self.n_samples = runs.shape
        self.n_clusters = int(n_clusters)
        for name in ("cophenetic", "dispersion", "pac", "pac_se", "labels",
                     "sample", "exact"):
            setattr(self, name, stats[name])
        self._runs = runs

    def consensus_matrix(self, indices=None):
        """The consensus of the given samples, as a dense matrix.

        Parameters
        ----------
        indices : array-like of int, default=None
            Samples to include; ``None`` means all, allowed up to
            ``max_samples`` samples.

        Returns
        -------
        C : ndarray of shape (n_indices, n_indices)
            Fraction of runs that put each pair in the same cluster.
        """
        idx = np.arange(self.n_samples) if indices is None else np.asarray(
            indices, dtype=np.int64).ravel()
        if idx.size > _consensus.MAX_SAMPLES and indices is None:
            raise ValueError(
                f"The consensus matrix of all {self.n_samples} samples would "
                f"have {self.n_samples ** 2:,} entries: pass the indices of "
                "the samples you need.")
        return _consensus.co_clustered(self._runs, idx)

    def __repr__(self):
        return (f"Consensus(n_runs={self.n_runs}, n_samples={self.n_samples}, "
                f"cophenetic={self.cophenetic:.4f}, dispersion="
                f"{self.dispersion:.4f}, pac={self.pac:.4f})")


def consensus_clustering(estimator, X, *, n_runs=10, init="auto",
                         max_samples=_consensus.MAX_SAMPLES, n_jobs=None,
                         random_state=None, verbose=0):
    """Cluster ``X`` from ``n_runs`` different starts and take their consensus.

    Each run fits a clone of ``estimator`` on all of ``X`` with its own
    ``random_state`` (and ``init``), as Brunet et al. (2004) and R's NMF
    package do; the labels are the model's ``labels_``, or, for a model
    without labels such as :class:`~sknmfcluster.SparseNMF`, the component
    contributing most to each sample (unit-norm components).

    Parameters
    ----------
    estimator : estimator or Pipeline
        An unfitted NMF model (any estimator with ``components_`` after
        ``fit``), or a pipeline ending in one. Not modified.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Data, as ``estimator.fit`` takes it.
    n_runs : int, default=10
        Number of fits.
    init : str or None, default="auto"
        ``init`` of every run, when the model has that parameter. ``"auto"``
        keeps the model's own init when it depends on the seed (``"random"``,
        ``"nndsvdar"``, and ``"spectral"``, the default of
        ``method="symmetric"``) and starts from random factors otherwise, as
        Brunet et al. and R's NMF do (NNDSVD would give identical runs). A
        string sets that init for every run; ``None`` keeps the model's own.
    max_samples : int, default=2000
        See :class:`Consensus`.
    n_jobs : int, default=None
        Runs fitted in parallel (joblib; ``None`` means 1).
    random_state : int, RandomState instance or None, default=None
        Seeds of the runs, of the subsample and of the random pairs: an int
        gives the same result on every call.
    verbose : int, default=0
        Print the phase and its time on standard error.

    Returns
    -------
    consensus : Consensus
        The runs' consensus and its summaries.

    Examples
    --------
    >>> import numpy as np
    >>> from sknmfcluster import NMFClusterer
    >>> from sknmfcluster.model_selection import consensus_clustering
    >>> rng = np.random.RandomState(0)
    >>> parts = np.eye(3).repeat(4, axis=1)
    >>> X = parts[np.arange(90) % 3] + 0.05 * rng.rand(90, 12)
    >>> consensus = consensus_clustering(NMFClusterer(3, method="nmf"), X,
    ...                                  n_runs=5, random_state=0)
    >>> consensus.cophenetic, consensus.pac
    (1.0, 0.0)
    """
    _survey.check_count(n_runs, "n_runs")
    _survey.check_count(max_samples, "max_samples", low=2)
    rng = check_random_state(random_state)
    seeds = rng.randint(np.iinfo(np.int32).max, size=n_runs)
    with _progress.phase(f"consensus of {n_runs} runs", verbose=verbose):
        runs = Parallel(n_jobs=n_jobs)(
            delayed(_survey.recorded)(
                _survey.fit_run, estimator, X,
                _survey.run_params(estimator, s, init))
            for s in seeds)
    _survey.warn_summary([w for _, caught in runs for w in caught], n_runs,
                         "consensus_clustering")
    rank = estimator.get_params()[_survey.rank_param(estimator)]
    return Consensus(np.stack([labels for (labels, _, _), _ in runs]), rank,
                     max_samples=max_samples, random_state=rng)


# -- the rank survey --------------------------------------------------------------
#: Columns of :attr:`RankSurvey.table`, in order.
COLUMNS = ("rank", "cv_score_mean", "cv_score_std", "cophenetic",
           "dispersion", "pac", "reconstruction_err", "fit_time")


class RankSurvey:
    """What :func:`rank_survey` measured at each rank, and the rank it chose.

    Attributes
    ----------
    table : dict of ndarray
        One array per column, one entry per rank: ``rank``,
        ``cv_score_mean`` and ``cv_score_std`` (the held-out score over the
        sample splits, bi-cross-validation by default), ``cophenetic``,
        ``dispersion`` and ``pac`` (of the consensus of the restarts; NaN
        without restarts), ``reconstruction_err`` (``reconstruction_err_``
        of the model fitted on all samples) and ``fit_time`` (seconds of that
        fit).
    cv_scores : ndarray of shape (n_ranks, n_splits)
        The held-out score of every rank on every split.
    best_rank : int
        The chosen rank.
    rule : str
        Why that rank: the rule applied and the numbers it compared.
    rank_param : str
        The parameter that was varied.
    """

    def __init__(self, table, cv_scores, best_rank, rule, rank_param,
                 scoring_name):
        self.table = table
        self.cv_scores = cv_scores
        self.best_rank = best_rank
        self.rule = rule
        self.rank_param = rank_param
        self.scoring_name = scoring_name

    @property
    def ranks(self):
        """The ranks surveyed, ``table["rank"]``."""
        return self.table["rank"]

    def to_frame(self):
        """The table as a :class:`pandas.DataFrame` indexed by rank (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is optional
            raise ImportError("to_frame needs pandas; the same numbers are in "
                              "the dict of arrays `table`.") from exc
        return pd.DataFrame(self.table).set_index("rank")

    def plot(self, **kwargs):
        """Draw the survey; see :func:`plot_rank_survey`."""
        return plot_rank_survey(self, **kwargs)

    def __repr__(self):
        head = "  ".join(f"{c:>18}" if i else f"{c:>4}"
                         for i, c in enumerate(COLUMNS))
        rows = []
        for i in range(self.ranks.size):
            cells = [f"{self.table['rank'][i]:>4d}"]
            cells += [f"{self.table[c][i]:>18.6g}" for c in COLUMNS[1:]]
            rows.append("  ".join(cells))
        return "\n".join([f"RankSurvey(best_rank={self.best_rank})", head,
                          *rows, f"rule: {self.rule}"])


def rank_survey(estimator, X, ranks, *, cv=5, n_runs=10, scoring=None,
                rank_param=None, init="auto", n_jobs=None,
                random_state=None, verbose=0):
    """Fit an NMF at every rank and measure what tells the right one.

    At each rank of ``ranks``:

    - the held-out ``scoring`` (bi-cross-validation by default,
      :func:`bicv_score`) of fits on the training part of every ``cv``
      split: mean and standard deviation over the splits;
    - the consensus of ``n_runs`` fits on all samples from different starts
      (:class:`Consensus`): cophenetic correlation, dispersion, PAC;
    - the reconstruction error and fit time of the estimator as given
      (its own ``init``) fitted on all samples.

    The chosen rank is the one with the best mean held-out score, the rank
    ``GridSearchCV(scoring=bicv_scorer)`` would choose (see
    ``RankSurvey.rule``). The User Guide page on choosing the number of
    clusters shows the study behind this rule and what the other criteria
    choose.

    Parameters
    ----------
    estimator : estimator or Pipeline
        An unfitted NMF model (any estimator whose fitted form has
        ``components_``: :class:`~sknmfcluster.NMFClusterer`,
        :class:`~sknmfcluster.SparseNMF`, :class:`sklearn.decomposition.NMF`),
        or a pipeline ending in one. Not modified.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Non-negative data, as ``estimator.fit`` takes it.
    ranks : iterable of int
        Ranks to survey; sorted, duplicates dropped.
    cv : int, cross-validation generator or iterable, default=5
        Sample splits. An int is the number of folds of a shuffled
        :class:`~sklearn.model_selection.KFold` seeded from
        ``random_state``.
    n_runs : int, default=10
        Restarts for the consensus at each rank; 0 skips the consensus.
    scoring : callable, default=None
        Held-out score ``scoring(estimator, X_test, None)``, higher is
        better; ``None`` means :data:`bicv_scorer`.
    rank_param : str, default=None
        The parameter that sets the rank; ``None`` means ``n_clusters`` or
        ``n_components``, whichever the model has (with the step prefix of a
        pipeline).
    init : str or None, default="auto"
        ``init`` of the restarts (see :func:`consensus_clustering`).
    n_jobs : int, default=None
        Fits run in parallel (joblib; ``None`` means 1).
    random_state : int, RandomState instance or None, default=None
        Seeds the splits, the restarts and, when the estimator's own
        ``random_state`` is None, its fits: an int gives the same survey on
        every call, whatever ``n_jobs``.
    verbose : int, default=0
        Print a line per rank and the elapsed time on standard error.

    Returns
    -------
    survey : RankSurvey
        The table (``survey.table``, ``survey.to_frame()``), the chosen rank
        (``survey.best_rank``) and why (``survey.rule``).

    Warns
    -----
    Warning
        The warnings of the fits (a ``ConvergenceWarning``, a cluster that
        came out empty) are not shown one per fit: each rank whose fits
        warned raises one warning per category that says how many fits
        warned and quotes the first message.

    See Also
    --------
    plot_rank_survey : Draw the survey.
    bicv_scorer : The held-out score alone, for ``GridSearchCV``.

    Notes
    -----
    A survey fits ``len(ranks) * (n_splits + 1 + n_runs)`` models; with the
    defaults that is 16 fits per rank. The held-out score alone costs the
    ``n_splits`` fits per rank (``n_runs=0``).

    Examples
    --------
    >>> import numpy as np
    >>> from sknmfcluster import NMFClusterer
    >>> from sknmfcluster.model_selection import rank_survey
    >>> rng = np.random.RandomState(0)
    >>> H = rng.uniform(size=(3, 30)) * (rng.uniform(size=(3, 30)) < 0.4)
    >>> X = rng.dirichlet([0.5] * 3, size=150) @ H + 0.01 * rng.rand(150, 30)
    >>> survey = rank_survey(NMFClusterer(method="nmf"), X, range(2, 6),
    ...                      cv=3, n_runs=3, random_state=0)
    >>> survey.best_rank
    3
    >>> survey.to_frame().columns.tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['cv_score_mean', 'cv_score_std', 'cophenetic', 'dispersion', 'pac',
     'reconstruction_err', 'fit_time']
    """
    ranks = _survey.check_ranks(ranks)
    _survey.check_count(n_runs, "n_runs", low=0)
    rank_param = rank_param or _survey.rank_param(estimator)
    scorer = bicv_scorer if scoring is None else check_scoring(
        estimator, scoring=scoring)
    rng = check_random_state(random_state)
    cv_seed, fit_seed = rng.randint(np.iinfo(np.int32).max, size=2)
    run_seeds = rng.randint(np.iinfo(np.int32).max, size=n_runs)
    if isinstance(cv, Integral):
        cv = KFold(cv, shuffle=True, random_state=cv_seed)
    splits = list(check_cv(cv).split(X))
    base = {}
    if _survey.final(estimator).get_params(deep=False).get("random_state") is None:
        base[_survey.param_name(estimator, "random_state")] = int(fit_seed)
    run_params = [_survey.run_params(estimator, s, init) for s in run_seeds]
    tasks = list(_survey.survey_tasks(estimator, ranks, splits, base, run_params,
                               rank_param))
    per_rank = len(splits) + 1 + n_runs
    cv_scores = np.full((ranks.size, len(splits)), np.nan)
    table = {c: np.full(ranks.size, np.nan) for c in COLUMNS}
    table["rank"] = ranks
    labels = [None] * n_runs
    caught = []
    done = 0
    with _progress.phase(
            f"rank survey: {ranks.size} ranks x {per_rank} fits "
            f"({len(splits)} splits, 1 full fit, {n_runs} restarts)",
            verbose=verbose):
        results = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_survey.run_task)(estimator, X, kind, params, split, scorer)
            for _, kind, params, split in tasks)
        for (i, kind, _, _), (result, warned) in zip(tasks, results):
            if kind[0] == "score":
                cv_scores[i, kind[1]] = result
            elif kind[0] == "full":
                table["reconstruction_err"][i], table["fit_time"][i] = result[1:]
            else:
                labels[kind[1]] = result[0]
            caught += warned
            done += 1
            if done % per_rank == 0:
                _survey.finish_rank(table, cv_scores, labels, i, rng, verbose)
                _survey.warn_summary(caught, per_rank,
                                     f"rank {table['rank'][i]}", stacklevel=2)
                caught = []
    best = int(ranks[np.nanargmax(table["cv_score_mean"])])
    return RankSurvey(table, cv_scores, best, _survey.rule_text(table, best),
                      rank_param, _scoring_name(scorer))


def _scoring_name(scorer):
    return "bi-cross-validation" if isinstance(scorer, BiCVScorer) else repr(
        scorer)


#: Panels of :func:`plot_rank_survey`: column, title, what is better.
PANELS = {
    "cv_score_mean": ("held-out score", "higher is better"),
    "cophenetic": ("cophenetic correlation", "higher is more stable"),
    "dispersion": ("dispersion", "higher is more stable"),
    "pac": ("PAC (ambiguous pairs)", "lower is more stable"),
    "reconstruction_err": ("reconstruction error", "always falls"),
    "fit_time": ("fit time (s)", "on all samples"),
}


def plot_rank_survey(survey, *, columns=None, ncols=3, figsize=None):
    """Draw a rank survey: one panel per criterion against the rank.

    As R's NMF package draws ``nmfEstimateRank``: each criterion against the
    rank, points joined by lines, here with the chosen rank marked by a
    dashed line in every panel and the held-out score drawn with its
    standard deviation over the sample splits. Needs matplotlib.

    Parameters
    ----------
    survey : RankSurvey
        The result of :func:`rank_survey`.
    columns : list of str, default=None
        Columns of ``survey.table`` to draw; ``None`` means every criterion
        that was measured (columns that are all NaN are left out).
    ncols : int, default=3
        Panels per row.
    figsize : tuple of float, default=None
        Figure size; ``None`` sizes it from the number of panels.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from sknmfcluster import NMFClusterer
    >>> from sknmfcluster.model_selection import plot_rank_survey, rank_survey
    >>> X = np.random.RandomState(0).rand(60, 12)
    >>> survey = rank_survey(NMFClusterer(method="nmf"), X, [1, 2, 3], cv=2,
    ...                      n_runs=2, random_state=0)
    >>> fig = plot_rank_survey(survey, columns=["cv_score_mean", "pac"])
    >>> [ax.get_title().split("\\n")[0] for ax in fig.axes if ax.get_visible()]
    ['bi-cross-validation', 'PAC (ambiguous pairs)']
    """
    import matplotlib.pyplot as plt

    columns = _panel_columns(survey, columns)
    nrows = -(-len(columns) // ncols)
    fig = plt.figure(figsize=figsize or (3.6 * ncols, 3.0 * nrows))
    _draw_rank_survey(fig, survey, columns=columns, ncols=ncols)
    return fig


def _panel_columns(survey, columns):
    """The columns to draw: the measured ones by default; unknown ones refused."""
    if columns is None:
        return [c for c in PANELS if not np.all(np.isnan(survey.table[c]))]
    unknown = [c for c in columns if c not in PANELS]
    if unknown:
        raise ValueError(f"Unknown columns {unknown}; choose from "
                         f"{list(PANELS)}.")
    return list(columns)


def _draw_rank_survey(fig, survey, *, columns=None, ncols=3):
    """Draw the panels of :func:`plot_rank_survey` into the figure ``fig``.

    Works on any :class:`matplotlib.figure.Figure`, also one made without
    pyplot (the command line draws into an Agg figure this way).
    """
    columns = _panel_columns(survey, columns)
    table = survey.table
    nrows = -(-len(columns) // ncols)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
    ranks = table["rank"]
    for ax, column in zip(axes.flat, columns):
        title, note = PANELS[column]
        if column == "cv_score_mean":
            ax.errorbar(ranks, table[column], yerr=table["cv_score_std"],
                        marker="o", ms=4, capsize=2)
            title = survey.scoring_name
        else:
            ax.plot(ranks, table[column], marker="o", ms=4)
        ax.axvline(survey.best_rank, color="gray", ls="--", lw=1)
        ax.set_title(f"{title}\n({note})" if note else title, fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(columns):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel(survey.rank_param.split("__")[-1])
    fig.suptitle(f"Rank survey: chosen rank {survey.best_rank}", fontsize=11)
    fig.tight_layout()
