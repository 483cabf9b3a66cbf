"""Command line: ``sknmfcluster cluster [DATA] [options]``.

Fits :class:`~sknmfcluster.NMFClusterer` to a data set or a data file, prints
how well the clusters match the labels (next to KMeans) and saves the labels.
"""

import argparse
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import normalized_mutual_info_score

from ._clusterer import NMFClusterer
from .datasets import DATASETS, FILE_EXTENSIONS, load_data_file, load_dataset
from .metrics import clustering_accuracy

#: Exit code for bad input or options, as argparse uses for usage errors.
EXIT_USAGE = 2

_LABEL_FORMATS = (".npy", ".csv")
_IMAGE_FORMATS = (".png", ".pdf", ".svg", ".jpg", ".jpeg")
_DEFAULT_N_CLUSTERS = 8


def main(argv=None):
    """Run the ``sknmfcluster`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; None means ``sys.argv[1:]``.

    Returns
    -------
    exit_code : int
        0 on success, 2 when the input or an option is invalid (the reason
        is printed on stderr as ``error: <message>``).
    """
    args = _build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, OSError) as exc:
        # Bad data or paths are the user's to fix: a message, not a traceback.
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _positive_int(text):
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="sknmfcluster",
        description="Non-negative matrix factorization as a clusterer.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    cluster = commands.add_parser(
        "cluster",
        help="cluster a data set or a data file with NMFClusterer",
        description=(
            "Cluster DATA with NMFClusterer, report accuracy and NMI against "
            "the labels (next to KMeans) when there are labels, and save the "
            "cluster labels."
        ),
        epilog=(
            "A .csv file has labels when its header's last column is named "
            "label, y or target. Errors exit with code 2."
        ),
    )
    cluster.add_argument(
        "data", nargs="?", default="digits", metavar="DATA",
        help="'digits', 'mnist' (falls back to digits offline) or a .npy, "
             ".csv or sparse .npz file (default: digits)")
    cluster.add_argument(
        "--n-clusters", type=_positive_int, metavar="K",
        help="number of clusters (default: number of classes when there are "
             f"labels, else {_DEFAULT_N_CLUSTERS})")
    cluster.add_argument("--method", choices=("symmetric", "graph", "nmf"),
                         default="symmetric",
                         help="symmetric NMF of the k-nearest-neighbour graph "
                              "(most accurate), graph-regularised NMF, or plain "
                              "NMF of the data (default: symmetric)")
    cluster.add_argument("--n-neighbors", type=_positive_int, default=10,
                         metavar="N",
                         help="neighbours per sample in the graph of the "
                              "symmetric and graph methods (default: 10)")
    cluster.add_argument("--beta-loss", choices=("frobenius", "kullback-leibler"),
                         default="frobenius", help="divergence (default: frobenius)")
    cluster.add_argument("--solver", choices=("auto", "cd", "mu"), default="auto",
                         help="update rule: coordinate descent or multiplicative "
                              "updates (default: auto, cd for frobenius and mu "
                              "for kullback-leibler)")
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
    cluster.add_argument("--tol", type=float, default=1e-4,
                         help="relative decrease of the objective to stop at "
                              "(default: 1e-4)")
    cluster.add_argument("--random-state", type=int, default=0, metavar="S",
                         help="seed of NMF and KMeans (default: 0)")
    cluster.add_argument("--output", default="labels.npy", metavar="PATH",
                         help="where to write the labels, .npy or .csv "
                              "(default: labels.npy)")
    cluster.add_argument("--components-image", metavar="PATH",
                         help="save the components as a grid of images "
                              "(needs matplotlib)")
    cluster.add_argument("--no-kmeans", action="store_true",
                         help="do not fit KMeans for comparison")
    cluster.add_argument("--verbose", action="store_true",
                         help="print the NMF objective during the fit")
    cluster.set_defaults(run=_run_cluster)
    return parser


def _run_cluster(args):
    """The ``cluster`` command; returns the exit code."""
    output = Path(args.output)
    _check_output_paths(output, args.components_image)
    data = _load(args.data)
    X, y = data.data, data.target
    n_classes = None if y is None else len(np.unique(y))
    image_shape = (_image_shape(data.image_shape, X.shape[1])
                   if args.components_image else None)
    k = args.n_clusters or n_classes or _DEFAULT_N_CLUSTERS
    classes = "no labels" if y is None else f"{n_classes} classes"
    print(f"{data.name}: {X.shape[0]} samples x {X.shape[1]} features, {classes}")

    model, fit_time = _fit_nmf(args, X, k)
    print(f"NMFClusterer(n_clusters={k}, method={args.method!r}): fit in {fit_time:.2f} s, "
          f"{model.n_iter_} iterations, reconstruction error "
          f"{model.reconstruction_err_:.4g}")
    if y is not None:
        rows = [("NMF", model.labels_, fit_time)]
        if not args.no_kmeans:
            rows.append(("KMeans", *_fit_kmeans(X, k, args.random_state)))
        _print_scores(y, rows)

    _save_labels(output, model.labels_)
    print(f"Labels written to {output}")
    if args.components_image:
        _save_components_image(args.components_image, model.components_, image_shape)
        print(f"Components image written to {args.components_image}")
    return 0


def _check_output_paths(output, image):
    """Reject output paths that cannot be written before spending time fitting."""
    if output.suffix.lower() not in _LABEL_FORMATS:
        raise ValueError(
            f"--output must end in .npy or .csv, got {str(output)!r}.")
    paths = [("--output", output)]
    if image:
        image = Path(image)
        if image.suffix.lower() not in _IMAGE_FORMATS:
            raise ValueError(
                f"--components-image must end in one of "
                f"{', '.join(_IMAGE_FORMATS)}, got {str(image)!r}.")
        paths.append(("--components-image", image))
    for option, path in paths:
        if not path.parent.is_dir():
            raise ValueError(
                f"{option}: directory {str(path.parent)!r} does not exist.")


def _load(name):
    """A data set by name, or a data file, as a Bunch; warnings go to stderr."""
    if name not in DATASETS and Path(name).suffix.lower() not in FILE_EXTENSIONS:
        raise ValueError(
            f"Unknown data {name!r}: expected {' or '.join(DATASETS)}, or a "
            f"path to a {', '.join(FILE_EXTENSIONS)} file.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if name in DATASETS:
            # Always say when MNIST is fetched: a silent minute looks like a hang.
            data = load_dataset(name, return_X_y=False, verbose=True)
        else:
            data = load_data_file(name, return_X_y=False)
    _echo_warnings(caught)
    return data


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


def _fit_nmf(args, X, k):
    """Fit NMFClusterer; return the model and the fit time in seconds."""
    model = NMFClusterer(
        n_clusters=k, method=args.method, n_neighbors=args.n_neighbors,
        beta_loss=args.beta_loss, solver=args.solver, init=args.init,
        n_init=args.n_init, max_iter=args.max_iter, tol=args.tol,
        random_state=args.random_state, verbose=int(args.verbose),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        model.fit(X)
        fit_time = time.perf_counter() - start
    _echo_warnings(caught, "NMF stopped at --max-iter before converging; "
                           "raise --max-iter or --tol.")
    return model, fit_time


def _fit_kmeans(X, k, random_state):
    """KMeans labels and fit time, with the settings of the NMF-vs-KMeans study."""
    kmeans = KMeans(n_clusters=k, n_init=10, random_state=random_state)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        labels = kmeans.fit_predict(X)
        fit_time = time.perf_counter() - start
    _echo_warnings(caught)
    return labels, fit_time


def _print_scores(y, rows):
    """One line per method: accuracy, NMI and fit time."""
    print(f"{'':8}{'accuracy':>10}{'NMI':>8}{'fit time':>10}")
    for method, labels, fit_time in rows:
        accuracy = clustering_accuracy(y, labels)
        nmi = normalized_mutual_info_score(y, labels)
        print(f"{method:8}{accuracy:>10.4f}{nmi:>8.4f}{fit_time:>8.2f} s")


def _save_labels(path, labels):
    if path.suffix.lower() == ".csv":
        np.savetxt(path, labels, fmt="%d", header="label", comments="")
    else:
        np.save(path, labels)


def _image_shape(image_shape, n_features):
    """Shape to draw one component as an image, or a ValueError saying why not."""
    if image_shape is not None:
        return tuple(image_shape)
    side = math.isqrt(n_features)
    if side * side != n_features:
        raise ValueError(
            f"--components-image: cannot draw {n_features} features as an "
            "image; the image shape is unknown and n_features is not a "
            "perfect square. Save a 3-D .npy stack (n_samples, height, "
            "width) to give the shape.")
    return (side, side)


def _save_components_image(path, components, image_shape):
    """Save the rows of ``components`` as a grid of images (Agg, no display)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ValueError(
            "--components-image needs matplotlib: pip install matplotlib") from None
    k = components.shape[0]
    # Five columns as in the MNIST study's 2 x 5 grid; square-ish beyond 25.
    n_cols = min(k, max(5, math.ceil(math.sqrt(k))))
    n_rows = math.ceil(k / n_cols)
    figure = Figure(figsize=(1.6 * n_cols, 1.7 * n_rows))
    FigureCanvasAgg(figure)
    axes = figure.subplots(n_rows, n_cols, squeeze=False)
    for index, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if index < k:
            ax.imshow(components[index].reshape(image_shape), cmap="gray_r")
            ax.set_title(f"component {index}", fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
