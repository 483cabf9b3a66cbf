"""Command line: ``sknmfcluster cluster [DATA] [options]``.

Fits :class:`~sknmfcluster.NMFClusterer` to a data set or a data file, prints
how well the clusters match the labels (next to KMeans) and saves the labels.
With ``--n-clusters auto`` it first surveys the rank without labels
(:func:`~sknmfcluster.model_selection.rank_survey`), prints the survey's table
and the rank it chose and why, and clusters with that rank.

Standard output carries the results only, and its first line names the data
set actually used; progress (each phase, the first-use compilation of the
kernels), warnings and errors go to standard error. Every problem the user can
fix exits with code 2 and one ``error:`` line that says what is wrong. The
output paths are checked before any work, and the outputs are written whole
or not at all: nothing the user passed, and no earlier output, is left
half-written.
"""

import contextlib
import importlib.util
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import normalized_mutual_info_score

from . import _bicv, _options, _outputs, _progress
from ._clusterer import NMFClusterer
from ._options import (
    DEFAULT_CONSENSUS_RUNS,
    DEFAULT_N_CLUSTERS,
    DEFAULT_RANKS,
    DEFAULTS,
)
from .datasets import (
    DATASETS,
    FILE_EXTENSIONS,
    load_data_file,
    load_dataset,
    load_label_file,
)
from .metrics import clustering_accuracy
from .model_selection import rank_survey

#: Exit code for bad input or options, as argparse uses for usage errors.
EXIT_USAGE = 2

#: Exit code after Ctrl-C, as a shell reports a process ended by SIGINT.
EXIT_INTERRUPTED = 130

_KMEANS_N_INIT = 10

#: Sample splits of the rank survey of ``--n-clusters auto``.
SURVEY_SPLITS = 5


def main(argv=None):
    """Run the ``sknmfcluster`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; None means ``sys.argv[1:]``.

    Returns
    -------
    exit_code : int
        0 on success, 2 when the input, an option or an output path is
        invalid (the reason is printed on stderr as ``error: <message>``),
        130 when interrupted.
    """
    args = _build_parser().parse_args(argv)
    # The command is a whole program, so it may choose the OpenMP wait policy
    # of its process (the library does not: see the performance page).
    # Numba's OpenMP threads spin at the barrier after every parallel loop by
    # default; next to other busy processes that made a two-thread kernel up
    # to hundreds of times slower. Set before the first kernel runs; a value
    # the user set is kept.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        return args.run(args)
    except (ValueError, OSError) as exc:
        # Bad data or paths are the user's to fix: a message, not a traceback.
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _build_parser():
    """The parser, with the ``cluster`` command wired to :func:`_run_cluster`."""
    return _options.build_parser(run_cluster=_run_cluster)


def _run_cluster(args):
    """The ``cluster`` command; returns the exit code."""
    _check_options(args)
    # Before any work: a bad output path costs no fit.
    outputs = _outputs.check_paths(
        [("--output", args.output), ("--components-image", args.components_image),
         ("--survey-plot", args.survey_plot)],
        inputs=[path for path in (args.data, args.labels)
                if path and path not in DATASETS])
    with _progress.report_phases():
        data = _load(args)
        X, y = data.data, data.target
        _check_values(X, data.name, allow_missing=args.method == "nmf")
        _check_n_neighbors(args, X.shape[0])
        image_shape = (_outputs.components_image_shape(data.image_shape, X.shape[1])
                       if args.components_image else None)
        n_classes = None if y is None else len(np.unique(y))
        classes = "no labels" if y is None else f"{n_classes} classes"
        print(f"{data.name}: {X.shape[0]} samples x {X.shape[1]} features, {classes}")
        survey = None
        if args.n_clusters == "auto":
            survey = _run_survey(args, X)
            k = survey.best_rank
        else:
            k = args.n_clusters or n_classes or DEFAULT_N_CLUSTERS

        model, fit_time, compile_time = _fit_nmf(args, X, k)
        print(f"{_describe(model)}: fit in {fit_time:.2f} s (+ {compile_time:.2f} s "
              f"compiling Numba kernels), {model.n_iter_} iterations, "
              f"reconstruction error {model.reconstruction_err_:.4g}")
        if y is not None:
            rows = [("NMF", model.labels_, fit_time)]
            if not args.no_kmeans and _has_missing(X):
                print("KMeans cannot fit missing values: not compared.",
                      file=sys.stderr)
            elif not args.no_kmeans:
                rows.append(("KMeans", *_fit_kmeans(X, k, args.random_state)))
            _print_scores(y, rows)

        render = {
            "--output": lambda path: _outputs.labels_bytes(path, model.labels_),
            "--components-image": lambda path: _outputs.image_bytes(
                path, model.components_, image_shape),
            "--survey-plot": lambda path: _outputs.survey_plot_bytes(path, survey),
        }
        with _progress.phase(f"writing {', '.join(str(o.path) for o in outputs)}"):
            _outputs.write_all([(output, render[output.option]) for output in outputs])
    what = {"--output": "Labels", "--components-image": "Components image",
            "--survey-plot": "Survey plot"}
    for output in outputs:
        print(f"{what[output.option]} written to {output.path}")
    return 0


# -- options and inputs ---------------------------------------------------------
def _check_options(args):
    """Reject contradictory options; warn about ones the method does not use."""
    is_csv = Path(args.data).suffix.lower() == ".csv" and args.data not in DATASETS
    if args.label_column is not None and args.labels is not None:
        raise ValueError("give either --labels or --label-column, not both.")
    if args.label_column is not None and not is_csv:
        raise ValueError(
            f"--label-column applies to .csv data, and {args.data!r} is not a "
            ".csv file; give the labels of other data with --labels FILE.")
    unused = [("--graph-strength", args.graph_strength, ("graph",)),
              ("--n-neighbors", args.n_neighbors, ("graph", "symmetric"))]
    for option, value, methods in unused:
        if value is not None and args.method not in methods:
            print(f"warning: {option} is not used by --method {args.method}",
                  file=sys.stderr)
    _check_survey_options(args)


def _check_survey_options(args):
    """The options of ``--n-clusters auto``: only with it, and what it can fit."""
    if args.n_clusters != "auto":
        given = [option for option, value in (
            ("--ranks", args.ranks), ("--consensus-runs", args.consensus_runs),
            ("--n-jobs", args.n_jobs), ("--survey-plot", args.survey_plot))
            if value is not None]
        if given:
            raise ValueError(
                f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} for "
                "choosing the number of clusters: add --n-clusters auto, or "
                "leave out " + ", ".join(given) + ".")
        return
    if args.beta_loss not in _bicv.BETAS:
        raise ValueError(
            f"--n-clusters auto scores the ranks with --beta-loss frobenius "
            f"or kullback-leibler, not {args.beta_loss!r}; choose one of "
            "them, or give --n-clusters K.")
    if args.survey_plot and importlib.util.find_spec("matplotlib") is None:
        raise ValueError("--survey-plot needs matplotlib: pip install matplotlib")


def _load(args):
    """The data, with the labels of ``--labels`` if given, as a Bunch.

    Warnings go to stderr as ``warning:`` lines.
    """
    name = args.data
    if name not in DATASETS and Path(name).suffix.lower() not in FILE_EXTENSIONS:
        raise ValueError(
            f"Unknown data {name!r}: expected {' or '.join(DATASETS)}, or a "
            f"path to a {', '.join(FILE_EXTENSIONS)} file.")
    with _progress.phase(f"loading {name}"), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if name in DATASETS:
            data = _load_dataset(name, fallback=not args.no_fallback)
        else:
            data = load_data_file(name, return_X_y=False,
                                  label_column=args.label_column)
        if args.labels is not None:
            data.target = _load_labels(args.labels, data)
    _echo_warnings(caught)
    return data


def _load_dataset(name, fallback):
    try:
        # verbose: say when MNIST is fetched, as a silent minute looks like a hang.
        return load_dataset(name, return_X_y=False, verbose=True, fallback=fallback)
    except OSError as exc:
        raise ValueError(
            f"{exc} and --no-fallback is set; check the network connection, or "
            "run without --no-fallback to use digits instead.") from None


def _load_labels(path, data):
    try:
        labels = load_label_file(path)
    except ValueError as exc:
        raise ValueError(f"--labels: {exc}") from None
    n_samples = data.data.shape[0]
    if len(labels) != n_samples:
        raise ValueError(
            f"--labels: {path!r} holds {len(labels)} labels but {data.name!r} "
            f"has {n_samples} samples; give one label per sample, in order.")
    if data.target is not None:
        warnings.warn(f"--labels replaces the labels of {data.name}.", UserWarning)
    return labels


def _has_missing(X):
    """Whether X has a NaN (a missing value)."""
    return bool(np.isnan(X.data if sp.issparse(X) else X).any())


def _check_values(X, name, allow_missing=False):
    """Refuse infinite and negative values, and NaN unless they may be missing.

    The message says where the first one is.
    """
    values = X.data if sp.issparse(X) else X
    finite = np.isfinite(values) | (np.isnan(values) if allow_missing
                                    else False)
    if not finite.all():
        row, column = _position(X, np.flatnonzero(~finite)[0])
        value = values.flat[np.flatnonzero(~finite)[0]]
        why = ("a missing value: this method needs every value; use --method "
               "nmf, which fits the observed values only, or fill or drop the "
               "missing values first" if np.isnan(value) else
               "NMF needs finite values")
        raise ValueError(
            f"{name}: sample {row}, feature {column} is {value} ({why}); samples "
            "and features are counted from 1.")
    with np.errstate(invalid="ignore"):
        negative = np.flatnonzero(values.ravel() < 0)
    if negative.size:
        row, column = _position(X, negative[0])
        raise ValueError(
            f"{name}: Negative values are not allowed: sample {row}, feature "
            f"{column} is {values.flat[negative[0]]} (counted from 1). NMF needs "
            "non-negative data; shift or rescale it first.")


def _position(X, index):
    """Sample and feature, counted from 1, of entry ``index`` of X's values."""
    if sp.issparse(X):
        row = np.searchsorted(X.indptr, index, side="right") - 1
        return row + 1, X.indices[index] + 1
    row, column = np.unravel_index(index, X.shape)
    return row + 1, column + 1


def _check_n_neighbors(args, n_samples):
    """A graph of at least n_samples neighbours joins everything: refuse it."""
    if n_samples < 2:
        raise ValueError(f"the data has {n_samples} sample; clustering needs "
                         "at least 2.")
    if args.method == "nmf":
        return
    n_neighbors = args.n_neighbors or DEFAULTS["n_neighbors"]
    if n_neighbors >= n_samples:
        default = "" if args.n_neighbors else " (the default)"
        raise ValueError(
            f"--n-neighbors {n_neighbors}{default} is not below the number of "
            f"samples ({n_samples}): every sample would be in every "
            "neighbourhood and the graph could not separate clusters. Give "
            f"--n-neighbors from 1 to {n_samples - 1}, or --method nmf.")


def _echo_warnings(caught, convergence_message=None):
    """Print recorded warnings as one ``warning: ...`` line each on stderr.

    ``convergence_message``, if given, replaces the text of a
    ``ConvergenceWarning``: the estimator's text names its parameters, while
    the command-line user needs the option to change.
    """
    for record in caught:
        message = record.message
        if convergence_message and issubclass(record.category, ConvergenceWarning):
            message = convergence_message
        print(f"warning: {message}", file=sys.stderr)


# -- choosing the number of clusters ---------------------------------------------
def _survey_ranks(args, n_samples, n_features):
    """The ranks to survey and, when the default range was capped, why.

    The held-out score solves each sample's codes from half of its features,
    and each training split must have more samples than the rank: ranks
    beyond either limit are refused when given, and cut from the default.
    """
    train = n_samples - -(-n_samples // SURVEY_SPLITS)  # smallest training split
    limits = [(n_features // 2, f"half the {n_features} features: the held-out "
               "score solves each sample's codes from half of its features"),
              (train - 1, f"the {train} samples of a training split (5 sample "
               "splits)")]
    limit, why = min(limits, key=lambda item: item[0])
    if n_samples < 2 * SURVEY_SPLITS or limit < 2:
        raise ValueError(
            f"--n-clusters auto needs at least {2 * SURVEY_SPLITS} samples and "
            f"4 features to survey ranks from 2 (the data has {n_samples} "
            f"samples and {n_features} features); give --n-clusters K.")
    if args.ranks is None:
        ranks = [r for r in DEFAULT_RANKS if r <= limit]
        capped = (f"; the default {DEFAULT_RANKS[0]}:{DEFAULT_RANKS[-1]} stops at "
                  f"{limit}, {why}" if ranks[-1] < DEFAULT_RANKS[-1] else "")
        return ranks, capped
    if args.ranks[-1] > limit:
        raise ValueError(
            f"--ranks goes up to {args.ranks[-1]}, but ranks above {limit} "
            f"cannot be scored on this data ({why}); give ranks up to {limit}.")
    return list(args.ranks), ""


def _describe_ranks(ranks):
    if len(ranks) > 2 and np.all(np.diff(ranks) == 1):
        return f"ranks {ranks[0]} to {ranks[-1]}"
    return f"ranks {', '.join(map(str, ranks))}"


def _survey_model(args):
    """Plain NMF with the loss, solver, init and stopping rule of the options."""
    init = None if args.init in (None, "spectral") else args.init
    return NMFClusterer(method="nmf", beta_loss=args.beta_loss, solver=args.solver,
                        init=init, max_iter=args.max_iter, tol=args.tol)


def _run_survey(args, X):
    """Survey the ranks, print the table and the choice; the RankSurvey."""
    ranks, capped = _survey_ranks(args, *X.shape)
    runs = DEFAULT_CONSENSUS_RUNS if args.consensus_runs is None else args.consensus_runs
    model = _survey_model(args)
    shown = f"NMFClusterer(method='nmf', beta_loss={model.beta_loss!r})"
    print(f"Rank survey of {shown} over {_describe_ranks(ranks)}{capped}: held-out "
          f"score on {SURVEY_SPLITS} sample splits, consensus of {runs} restarts "
          "per rank")
    # The survey prints a line per rank; the phases of its many fits would
    # drown them, so they are silenced. The estimator's verbose lines go to
    # stderr as everywhere in the command.
    with warnings.catch_warnings(record=True) as caught, \
            contextlib.redirect_stdout(sys.stderr), _progress.silenced():
        warnings.simplefilter("always")
        survey, seconds, compile_time = _timed(
            lambda: rank_survey(model, X, ranks, cv=SURVEY_SPLITS, n_runs=runs,
                                n_jobs=args.n_jobs, random_state=args.random_state,
                                verbose=1))
    _echo_survey_warnings(caught)
    compiled = f" (+ {compile_time:.2f} s compiling Numba kernels)" if compile_time else ""
    fits = len(ranks) * (SURVEY_SPLITS + 1 + runs)
    print(f"{fits} fits in {seconds:.2f} s{compiled}")
    _print_survey(survey)
    return survey


def _echo_survey_warnings(caught):
    """The survey's per-rank warning summaries as one line per kind."""
    by_kind = {}
    for record in caught:
        message = record.message
        kind = (record.category, getattr(message, "first", str(message))
                if not issubclass(record.category, ConvergenceWarning) else "")
        by_kind.setdefault(kind, []).append(message)
    for (category, first), messages in by_kind.items():
        where = ", ".join(
            f"{getattr(m, 'where', '?')} ({getattr(m, 'count', '?')} of "
            f"{getattr(m, 'n_fits', '?')} fits)" for m in messages)
        if issubclass(category, ConvergenceWarning):
            print(f"warning: some survey fits stopped at --max-iter before "
                  f"converging: {where}; raise --max-iter or --tol.",
                  file=sys.stderr)
        else:
            print(f"warning: survey fits at {where}: {first}", file=sys.stderr)


def _cell(value, fmt):
    return "-" if np.isnan(value) else format(value, fmt)


def _print_survey(survey):
    """The survey's table, the chosen rank and why, on stdout."""
    table, best = survey.table, survey.best_rank
    print(f"{'rank':>4}  {'held-out score':>14}  {'std':>8}  {'cophenetic':>10}  "
          f"{'dispersion':>10}  {'PAC':>6}  {'recon. error':>12}  {'fit time':>8}")
    for i, rank in enumerate(table["rank"]):
        print(f"{rank:>4d}  {table['cv_score_mean'][i]:>14.6g}  "
              f"{table['cv_score_std'][i]:>8.2g}  "
              f"{_cell(table['cophenetic'][i], '.4f'):>10}  "
              f"{_cell(table['dispersion'][i], '.4f'):>10}  "
              f"{_cell(table['pac'][i], '.4f'):>6}  "
              f"{table['reconstruction_err'][i]:>12.5g}  "
              f"{table['fit_time'][i]:>6.2f} s" + ("  <- chosen" if rank == best else ""))
    print(f"Chosen {survey.rule} (bi-cross-validation: each held-out sample's "
          "codes are solved from half of its features and predict the other "
          "half; higher is better).")
    i = int(np.flatnonzero(table["rank"] == best)[0])
    if not np.isnan(table["pac"][i]):
        print(f"At rank {best} the restarts agree with cophenetic correlation "
              f"{table['cophenetic'][i]:.4f} (1 = always the same clusters) and "
              f"PAC {table['pac'][i]:.4f} (0 = no ambiguous pair).")
    if best == table["rank"][-1]:
        print(f"Rank {best} is the largest surveyed: a larger rank may score "
              "better; widen --ranks to see.")
    elif best == table["rank"][0] and best > 2:
        print(f"Rank {best} is the smallest surveyed: a smaller rank may score "
              "better; widen --ranks to see.")


# -- fitting --------------------------------------------------------------------
def _fit_nmf(args, X, k):
    """Fit NMFClusterer; return the model, the fit time and the compile time."""
    model = NMFClusterer(
        n_clusters=k, method=args.method,
        n_neighbors=args.n_neighbors or DEFAULTS["n_neighbors"],
        graph_strength=(DEFAULTS["graph_strength"] if args.graph_strength is None
                        else args.graph_strength),
        assign_labels=args.assign_labels,
        beta_loss=args.beta_loss, solver=args.solver, init=args.init,
        n_init=args.n_init, max_iter=args.max_iter, tol=args.tol,
        random_state=args.random_state, verbose=int(args.verbose),
    )
    # The estimator prints its verbose lines on stdout, which is for results.
    with warnings.catch_warnings(record=True) as caught, \
            contextlib.redirect_stdout(sys.stderr), \
            _progress.phase(f"fitting {_describe(model)}"):
        warnings.simplefilter("always")
        _, fit_time, compile_time = _timed(model.fit, X)
    _echo_warnings(caught, "NMF stopped at --max-iter before converging; "
                           "raise --max-iter or --tol.")
    return model, fit_time, compile_time


def _describe(model):
    """``NMFClusterer(...)`` with the parameters that shape this fit."""
    shown = {"n_clusters": model.n_clusters, "method": model.method}
    if model.method != "nmf" and model.n_neighbors != DEFAULTS["n_neighbors"]:
        shown["n_neighbors"] = model.n_neighbors
    if model.method == "graph":
        shown["graph_strength"] = model.graph_strength
    if model.assign_labels != DEFAULTS["assign_labels"]:
        shown["assign_labels"] = model.assign_labels
    return f"NMFClusterer({', '.join(f'{k}={v!r}' for k, v in shown.items())})"


def _timed(function, *args):
    """``function(*args)``, its time without compiling, and its compile time.

    Numba compiles the kernels on their first use; that time is reported
    apart, so that the fit time compares with KMeans's.
    """
    compiled, start = _progress.compile_seconds(), time.perf_counter()
    result = function(*args)
    wall = time.perf_counter() - start
    compile_time = _progress.compile_seconds() - compiled
    return result, max(wall - compile_time, 0.0), compile_time


def _fit_kmeans(X, k, random_state):
    """KMeans labels and fit time, with the settings of the NMF-vs-KMeans study."""
    kmeans = KMeans(n_clusters=k, n_init=_KMEANS_N_INIT, random_state=random_state)
    with warnings.catch_warnings(record=True) as caught, _progress.phase(
            f"fitting KMeans(n_clusters={k}, n_init={_KMEANS_N_INIT})"):
        warnings.simplefilter("always")
        labels, fit_time, _ = _timed(kmeans.fit_predict, X)
    _echo_warnings(caught)
    return labels, fit_time


def _print_scores(y, rows):
    """One line per method: accuracy, NMI and fit time."""
    print(f"{'':8}{'accuracy':>10}{'NMI':>8}{'fit time':>10}")
    for method, labels, fit_time in rows:
        accuracy = clustering_accuracy(y, labels)
        nmi = normalized_mutual_info_score(y, labels)
        print(f"{method:8}{accuracy:>10.4f}{nmi:>8.4f}{fit_time:>8.2f} s")
