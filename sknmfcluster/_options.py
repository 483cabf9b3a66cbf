"""The options of ``sknmfcluster cluster``: their parser, types and defaults.

Declarative and apart from the command that runs them, so that ``--help``
reads as one table. The defaults shown in ``--help`` are the estimator's own
(:data:`DEFAULTS`), so that the help and the fit cannot drift apart.
"""

import argparse
import math

from . import __version__
from ._clusterer import NMFClusterer
from ._losses import BETA_LOSSES

#: Number of clusters when ``--n-clusters`` is not given and there are no labels.
DEFAULT_N_CLUSTERS = 8

#: Ranks surveyed by ``--n-clusters auto`` when ``--ranks`` is not given
#: (capped to what the data allows: see ``_cli._survey_ranks``).
DEFAULT_RANKS = tuple(range(2, 21))

#: Restarts per rank for the consensus of ``--n-clusters auto``.
DEFAULT_CONSENSUS_RUNS = 10

#: The estimator's defaults, shown in --help and applied when an option is
#: not given, so that the two cannot drift apart.
DEFAULTS = NMFClusterer().get_params()


def build_parser(run_cluster):
    """The parser of the command line.

    Parameters
    ----------
    run_cluster : callable
        Runs the ``cluster`` command: called with the parsed arguments, it
        returns the exit code. Parsed arguments carry it as ``args.run``.

    Returns
    -------
    parser : argparse.ArgumentParser
        The parser of ``sknmfcluster``, with its ``cluster`` command.
    """
    parser = argparse.ArgumentParser(
        prog="sknmfcluster",
        description="Non-negative matrix factorization as a clusterer.",
    )
    parser.add_argument("--version", action="version",
                        version=f"sknmfcluster {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    cluster = commands.add_parser(
        "cluster",
        help="cluster a data set or a data file with NMFClusterer",
        description=(
            "Cluster DATA with NMFClusterer, report accuracy and NMI against "
            "the labels (next to KMeans) when there are labels, and save the "
            "cluster labels. Results go to stdout, whose first line names the "
            "data set actually used; progress goes to stderr."
        ),
        epilog=(
            "A .csv file has labels when its header's last column is named "
            "label, y or target, or in the column --label-column names. "
            "Lines and columns in messages are counted from 1. Errors exit "
            "with code 2 and leave no output file behind."
        ),
    )
    _add_data_options(cluster)
    _add_model_options(cluster)
    _add_survey_options(cluster)
    _add_output_options(cluster)
    cluster.set_defaults(run=run_cluster)
    return parser


def _beta_loss(text):
    """argparse type: a named beta-divergence or a number."""
    if text in BETA_LOSSES:
        return text
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(
            f"expected {', '.join(BETA_LOSSES)} or a number, got {text!r}")
    return value


def _positive_int(text):
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _n_clusters(text):
    """argparse type: a positive integer, or ``auto`` (a rank survey)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer or auto, got {text!r}") from None


def _non_negative_int(text):
    """argparse type: an integer of at least 0."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"expected an integer >= 0, got {text!r}")
    return value


def _ranks(text):
    """argparse type: ranks as ``LO:HI`` (inclusive), ``LO:HI:STEP`` or ``3,5,8``.

    Returns the sorted distinct ranks, at least two, each at least 1.
    """
    usage = ("expected LO:HI (both included, e.g. 2:20), LO:HI:STEP or a "
             f"comma-separated list such as 3,5,8; got {text!r}")
    try:
        if ":" in text:
            parts = [int(part) for part in text.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError
            low, high, step = (*parts, 1)[:3]
            if step < 1:
                raise argparse.ArgumentTypeError(
                    f"the step of {text!r} must be at least 1")
            if low > high:
                raise argparse.ArgumentTypeError(
                    f"{text!r} is empty: LO ({low}) is above HI ({high})")
            ranks = list(range(low, high + 1, step))
        else:
            ranks = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(usage) from None
    if min(ranks) < 1:
        raise argparse.ArgumentTypeError(
            f"ranks must be at least 1, got {min(ranks)} in {text!r}")
    ranks = sorted(set(ranks))
    if len(ranks) < 2:
        raise argparse.ArgumentTypeError(
            f"{text!r} gives one rank, {ranks[0]}: give at least two to "
            f"choose from, or --n-clusters {ranks[0]}")
    return tuple(ranks)


def _non_negative_float(text):
    """argparse type: a finite number of at least 0."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(
            f"expected a finite number >= 0, got {text!r}")
    return value

def _add_data_options(cluster):
    cluster.add_argument(
        "data", nargs="?", default="digits", metavar="DATA",
        help="'digits', 'mnist' (falls back to digits offline, see "
             "--no-fallback) or a .npy, .csv or sparse .npz file "
             "(default: digits)")
    cluster.add_argument(
        "--labels", metavar="FILE",
        help="labels to score against, one per sample: a 1-D .npy array or "
             "a .csv/.txt file with one label per line (replaces the data's "
             "own labels)")
    cluster.add_argument(
        "--label-column", metavar="COLUMN",
        help="for .csv data: the column holding the labels, by header name "
             "or by number (1 = first, -1 = last) (default: the last column "
             "when it is named label, y or target)")
    cluster.add_argument(
        "--no-fallback", action="store_true",
        help="when mnist cannot be downloaded, fail (exit 2) instead of "
             "using digits")


def _add_model_options(cluster):
    cluster.add_argument(
        "--n-clusters", type=_n_clusters, metavar="K",
        help="number of clusters, or auto to choose it without labels by a "
             "rank survey (see --ranks) (default: number of classes when "
             f"there are labels, else {DEFAULT_N_CLUSTERS})")
    cluster.add_argument("--method", choices=("symmetric", "graph", "nmf"),
                         default=DEFAULTS["method"],
                         help="symmetric NMF of the k-nearest-neighbour graph "
                              "(most accurate), graph-regularised NMF, or plain "
                              "NMF of the data (default: %(default)s)")
    cluster.add_argument("--n-neighbors", type=_positive_int, metavar="N",
                         help="neighbours per sample in the graph of the "
                              "symmetric and graph methods, below the number "
                              f"of samples (default: {DEFAULTS['n_neighbors']})")
    cluster.add_argument("--graph-strength", type=_non_negative_float,
                         metavar="L",
                         help="weight of the graph regulariser of --method "
                              "graph, relative to the root mean square of the "
                              "data (default: "
                              f"{DEFAULTS['graph_strength']:g})")
    cluster.add_argument("--assign-labels", choices=("auto", "argmax", "kmeans"),
                         default=DEFAULTS["assign_labels"],
                         help="labels from the largest component of each "
                              "sample's code, or from KMeans on the codes; "
                              "auto is kmeans for --method graph, argmax "
                              "otherwise (default: %(default)s)")
    cluster.add_argument("--beta-loss", type=_beta_loss, default="frobenius",
                         metavar="LOSS",
                         help="beta-divergence: frobenius, kullback-leibler, "
                              "itakura-saito or a number beta (default: "
                              "frobenius)")
    cluster.add_argument("--solver", choices=("auto", "cd", "mu"), default="auto",
                         help="update rule: coordinate descent (frobenius and "
                              "kullback-leibler) or multiplicative updates "
                              "(default: auto, cd for frobenius and "
                              "kullback-leibler, mu for the other losses)")
    cluster.add_argument("--init",
                         choices=("spectral", "random", "nndsvd", "nndsvda",
                                  "nndsvdar"),
                         help="initialisation (default: the estimator's: "
                              "spectral for --method symmetric, else nndsvda "
                              "when K <= min(n_samples, n_features)); "
                              "spectral is for --method symmetric only")
    cluster.add_argument("--n-init", type=_positive_int, default=1, metavar="N",
                         help="fits from different inits, best kept (default: 1)")
    cluster.add_argument("--max-iter", type=_positive_int, default=200, metavar="N",
                         help="maximum number of iterations (default: 200)")
    cluster.add_argument("--tol", type=_non_negative_float, default=1e-4,
                         help="relative decrease of the objective to stop at "
                              "(default: 1e-4)")
    cluster.add_argument("--random-state", type=int, default=0, metavar="S",
                         help="seed of NMF and KMeans (default: 0)")


def _add_survey_options(cluster):
    survey = cluster.add_argument_group(
        "choosing the number of clusters (--n-clusters auto)",
        "A rank survey fits plain NMF (--method nmf, with --beta-loss "
        "frobenius or kullback-leibler) at every rank, scores each rank on "
        "held-out samples by bi-cross-validation and measures the consensus "
        "of restarts; the rank with the best mean held-out score is chosen "
        "and clustered with --method. The table goes to stdout.")
    survey.add_argument(
        "--ranks", type=_ranks, metavar="RANKS",
        help="ranks to survey: LO:HI (both included), LO:HI:STEP or a list "
             "such as 3,5,8 (default: "
             f"{DEFAULT_RANKS[0]}:{DEFAULT_RANKS[-1]}, capped at half the "
             "number of features and below the samples of a training split)")
    survey.add_argument(
        "--consensus-runs", type=_non_negative_int, metavar="N",
        help="restarts per rank for the consensus columns (cophenetic, "
             "dispersion, PAC); 0 skips them and costs 6 instead of 16 fits "
             f"per rank (default: {DEFAULT_CONSENSUS_RUNS})")
    survey.add_argument(
        "--n-jobs", type=_positive_int, metavar="N",
        help="fits of the survey run in parallel in N processes (default: 1)")
    survey.add_argument(
        "--survey-plot", metavar="PATH",
        help="save the survey as a figure, one panel per criterion against "
             "the rank (.png, .pdf, .svg or .jpg; needs matplotlib)")


def _add_output_options(cluster):
    cluster.add_argument("--output", default="labels.npy", metavar="PATH",
                         help="where to write the labels, .npy or .csv "
                              "(default: labels.npy)")
    cluster.add_argument("--components-image", metavar="PATH",
                         help="save the components as a grid of images "
                              "(needs matplotlib)")
    cluster.add_argument("--no-kmeans", action="store_true",
                         help="do not fit KMeans for comparison")
    cluster.add_argument("--verbose", action="store_true",
                         help="print the NMF objective during the fit (on stderr)")

