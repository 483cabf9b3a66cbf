"""The fits behind the consensus and the rank survey, as joblib tasks.

Every fit is a clone of the caller's estimator with a few parameters set
(rank, seed, init); the caller's objects are never modified.
"""

import time
import warnings
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing

from . import _consensus, _progress


def final(estimator):
    """The model of a pipeline (its last step), or the estimator itself."""
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


def param_name(estimator, name):
    """Parameter ``name`` of the model, with a pipeline's step prefix."""
    if isinstance(estimator, Pipeline):
        return f"{estimator.steps[-1][0]}__{name}"
    return name


def rank_param(estimator):
    params = final(estimator).get_params(deep=False)
    for name in ("n_clusters", "n_components"):
        if name in params:
            return param_name(estimator, name)
    raise ValueError(
        f"{type(final(estimator)).__name__} has neither n_clusters nor "
        "n_components: pass the rank's parameter name as rank_param.")


def labels_of(model, codes):
    """``labels_``, or the component contributing most (unit-norm components)."""
    if hasattr(model, "labels_"):
        return np.asarray(model.labels_)
    H = np.asarray(model.components_, dtype=np.float64)
    scaled = np.asarray(codes, dtype=np.float64) * np.linalg.norm(H, axis=1)
    labels = np.argmax(scaled, axis=1)
    labels[scaled.max(axis=1) <= 0] = -1
    return labels


def fit_run(estimator, X, params):
    """Fit a clone with ``params``; return its labels, error and fit time."""
    model = clone(estimator).set_params(**params)
    start = time.perf_counter()
    codes = model.fit_transform(X)
    seconds = time.perf_counter() - start
    fitted = final(model)
    return (labels_of(fitted, codes).astype(np.int32),
            float(getattr(fitted, "reconstruction_err_", np.nan)), seconds)


def fit_score(estimator, X, train, test, params, scoring):
    """Fit a clone on the ``train`` rows, score it on the ``test`` rows."""
    model = clone(estimator).set_params(**params)
    model.fit(_safe_indexing(X, train))
    return float(scoring(model, _safe_indexing(X, test)))


#: Inits that differ from seed to seed: restarts keep them under ``"auto"``.
SEEDED_INITS = ("random", "nndsvdar", "spectral")


def restart_init(params):
    """The ``init`` of a restart under ``init="auto"``, from the model's params.

    Restarts must differ, so a deterministic init (NNDSVD) is replaced by
    ``"random"``, as Brunet et al. and R's NMF do. A seeded init is kept:
    above all the spectral start of ``method="symmetric"`` (its default),
    whose restarts differ by the KMeans of the spectral embedding, whereas
    symmetric NMF from random factors often misses even well-separated
    clusters, which would make every rank look unstable.
    """
    own = params.get("init")
    if own in SEEDED_INITS or (own is None
                               and params.get("method") == "symmetric"):
        return own
    return "random"


def run_params(estimator, seed, init):
    """Seed (and ``init``, when the model has one) of one restart."""
    params = final(estimator).get_params(deep=False)
    run = {param_name(estimator, "random_state"): int(seed)}
    if init is not None and "init" in params:
        run[param_name(estimator, "init")] = (
            restart_init(params) if init == "auto" else init)
    return run


def check_count(value, name, low=1):
    if not isinstance(value, Integral) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")


def check_ranks(ranks):
    ranks = np.asarray(list(ranks))
    if ranks.ndim != 1 or ranks.size == 0 or not all(
            isinstance(r, Integral) and not isinstance(r, bool) and r >= 1
            for r in ranks.tolist()):
        raise ValueError(f"ranks must be a non-empty sequence of integers "
                         f">= 1, got {ranks.tolist()!r}.")
    return np.unique(ranks.astype(np.int64))


def survey_tasks(estimator, ranks, splits, base, run_params, rank_param):
    """Every fit of the survey, in rank order: (rank index, kind, params)."""
    for i, rank in enumerate(ranks):
        params = {**base, rank_param: int(rank)}
        for j, (train, test) in enumerate(splits):
            yield i, ("score", j), params, (train, test)
        yield i, ("full", 0), params, None
        for r, run in enumerate(run_params):
            yield i, ("run", r), {**params, **run}, None


def recorded(function, *args):
    """``function(*args)`` and the warnings it raised, recorded, not shown.

    Returns ``(result, caught)`` with ``caught`` a list of ``(category,
    message)`` pairs, so that a task run in a worker process brings its
    warnings back to the caller, which summarises them (:func:`warn_summary`)
    instead of printing one per fit.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(*args)
    return result, [(record.category, str(record.message)) for record in caught]


def run_task(estimator, X, kind, params, split, scoring):
    """One fit of the survey, with the warnings it raised (:func:`recorded`)."""
    if kind[0] == "score":
        return recorded(fit_score, estimator, X, *split, params, scoring)
    return recorded(fit_run, estimator, X, params)


def warn_summary(caught, n_fits, where, stacklevel=2):
    """One warning per category for the ``caught`` warnings of ``n_fits`` fits.

    ``where`` starts the message (``"rank 7"``). The first message of the
    category is quoted; the count says how many fits' warnings it stands
    for. The warning carries ``where``, ``first`` (the first message),
    ``count`` and ``n_fits`` as attributes.
    """
    by_category = {}
    for category, message in caught:
        by_category.setdefault(category, []).append(message)
    for category, messages in by_category.items():
        text = (f"{where}: {len(messages)} warning(s) from {n_fits} fits, "
                f"the first: {messages[0]}")
        try:
            warning = category(text)
        except Exception:  # pragma: no cover - a category with odd arguments
            warning = UserWarning(text)
        warning.where, warning.first = where, messages[0]
        warning.count, warning.n_fits = len(messages), n_fits
        warnings.warn(warning, stacklevel=stacklevel + 1)


def finish_rank(table, cv_scores, labels, i, rng, verbose):
    """Summaries of rank ``i`` once all its fits are in; one progress line."""
    table["cv_score_mean"][i] = cv_scores[i].mean()
    table["cv_score_std"][i] = cv_scores[i].std()
    if labels:
        stats = _consensus.summarize(np.stack(labels), int(table["rank"][i]),
                                     random_state=rng)
        for name in ("cophenetic", "dispersion", "pac"):
            table[name][i] = stats[name]
    if _progress.reporting(verbose):
        _progress.say(
            f"rank {table['rank'][i]}: held-out score "
            f"{table['cv_score_mean'][i]:.5g} +/- {table['cv_score_std'][i]:.2g}"
            f", cophenetic {table['cophenetic'][i]:.3f}, PAC "
            f"{table['pac'][i]:.3f}, fit {table['fit_time'][i]:.2f} s")


def rule_text(table, best):
    """Why ``best``: its score, its spread and the runner-up's."""
    order = np.argsort(-table["cv_score_mean"], kind="stable")
    i = order[0]
    text = (f"rank {best}: the best mean held-out score, "
            f"{table['cv_score_mean'][i]:.5g} (std "
            f"{table['cv_score_std'][i]:.2g} over the splits)")
    if order.size > 1:
        j = order[1]
        text += (f"; next best rank {table['rank'][j]}, "
                 f"{table['cv_score_mean'][j]:.5g}")
    return text
