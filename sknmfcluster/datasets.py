"""Data sets for examples and the command line, and a loader for data files.

:func:`load_dataset` gives the two image data sets the project's examples
start from (digits, which ships with scikit-learn, and MNIST, which needs a
network and falls back to digits without one); :func:`load_data_file` reads a
user's ``.npy``, ``.csv`` or sparse ``.npz`` file.
"""

import csv
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import fetch_openml, load_digits
from sklearn.utils import Bunch

#: Data sets known to :func:`load_dataset`.
DATASETS = ("digits", "mnist")

#: File extensions known to :func:`load_data_file`.
FILE_EXTENSIONS = (".npy", ".csv", ".npz")

#: Header names that mark the last column of a CSV file as the labels.
LABEL_COLUMNS = ("label", "y", "target")

# Largest pixel value of each data set, to scale pixels to [0, 1].
_DIGITS_MAX = 16.0
_MNIST_MAX = 255.0


def load_dataset(name, *, return_X_y=True, verbose=True):
    """Load a labelled image data set with pixels scaled to ``[0, 1]``.

    ``"digits"`` is :func:`sklearn.datasets.load_digits` (1,797 images of
    8 x 8 pixels, 10 classes), always available offline. ``"mnist"`` is
    ``fetch_openml("mnist_784")`` (70,000 images of 28 x 28 pixels, 10
    classes), downloaded on first use and cached by scikit-learn; when it
    cannot be downloaded (no network, a time-out, a server error), a
    ``UserWarning`` says so and digits is returned instead.

    Parameters
    ----------
    name : {"digits", "mnist"}
        Data set to load.
    return_X_y : bool, default=True
        If True, return ``(data, target)`` instead of a Bunch.
    verbose : bool, default=True
        Print a line before downloading MNIST, which can take a minute.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        data : ndarray of shape (n_samples, n_features), dtype float64
            Pixels scaled to ``[0, 1]``, one flattened image per row.
        target : ndarray of shape (n_samples,), dtype int64
            The digit shown by each image.
        image_shape : tuple of int
            Shape of one image: ``(8, 8)`` or ``(28, 28)``.
        name : str
            Data set actually loaded: ``"digits"`` after a fallback.

    (data, target) : tuple if ``return_X_y`` is True
        The arrays described above.

    Warns
    -----
    UserWarning
        When MNIST is requested but cannot be downloaded.

    See Also
    --------
    load_data_file : Load a user's ``.npy``, ``.csv`` or ``.npz`` file.

    Examples
    --------
    >>> from sknmfcluster.datasets import load_dataset
    >>> X, y = load_dataset("digits")
    >>> X.shape, X.min(), X.max(), y.dtype
    ((1797, 64), np.float64(0.0), np.float64(1.0), dtype('int64'))
    >>> load_dataset("digits", return_X_y=False).image_shape
    (8, 8)
    """
    if name not in DATASETS:
        raise ValueError(
            f"Unknown data set {name!r}; expected one of {', '.join(DATASETS)}."
        )
    bunch = _load_mnist(verbose) if name == "mnist" else None
    if bunch is None:
        X, y = load_digits(return_X_y=True)
        bunch = Bunch(data=X / _DIGITS_MAX, target=y.astype(np.int64),
                      image_shape=(8, 8), name="digits")
    return (bunch.data, bunch.target) if return_X_y else bunch


def _load_mnist(verbose):
    """MNIST as a Bunch, or None with a ``UserWarning`` if it cannot be fetched."""
    if verbose:
        print("Fetching MNIST from OpenML (downloaded on first use, then "
              "cached by scikit-learn)...")
    try:
        with warnings.catch_warnings():
            # fetch_openml warns at each retry; one warning below says it all.
            warnings.filterwarnings(
                "ignore", message="A network error occurred", category=UserWarning)
            mnist = fetch_openml("mnist_784", as_frame=False, parser="auto")
    except Exception as exc:  # noqa: BLE001 - any failure means "use digits"
        warnings.warn(
            f"MNIST could not be downloaded ({type(exc).__name__}: {exc}); "
            "using the digits data set (8 x 8 images) instead.",
            UserWarning,
            stacklevel=3,
        )
        return None
    return Bunch(
        data=np.asarray(mnist.data, dtype=np.float64) / _MNIST_MAX,
        target=np.asarray(mnist.target).astype(np.int64),
        image_shape=(28, 28),
        name="mnist",
    )


def load_data_file(path, *, return_X_y=True):
    """Load non-negative data for clustering from a ``.npy``, ``.csv`` or ``.npz`` file.

    The format follows the extension:

    - ``.npy``: a numeric array saved with :func:`numpy.save`, either 2-D
      (one sample per row) or 3-D (a stack of images, flattened to rows; the
      image shape is then returned).
    - ``.csv``: comma-separated numbers, one sample per line. The first line
      is a header when any of its fields is not a number. When there is a
      header and its last column is named ``label``, ``y`` or ``target``
      (any case), that column holds the labels and the other columns the
      features; otherwise every column is a feature and there are no labels.
    - ``.npz``: a sparse matrix saved with :func:`scipy.sparse.save_npz`,
      returned in CSR format.

    Parameters
    ----------
    path : str or path-like
        File to read.
    return_X_y : bool, default=True
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        data : {ndarray, sparse matrix} of shape (n_samples, n_features)
            The samples, float32 if stored as float32 and float64 otherwise.
        target : ndarray of shape (n_samples,) or None
            Labels from a CSV label column: int64 when they are all whole
            numbers, the strings as written otherwise. None without one.
        image_shape : tuple of int or None
            Shape of one image for a 3-D ``.npy`` file, None otherwise.
        name : str
            The file's name.

    (data, target) : tuple if ``return_X_y`` is True
        The arrays described above.

    Raises
    ------
    ValueError
        If the file does not exist, its extension is not ``.npy``, ``.csv``
        or ``.npz``, or its content is not numeric data of the expected
        shape.

    See Also
    --------
    load_dataset : Load the digits or MNIST data set.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FILE_EXTENSIONS:
        raise ValueError(
            f"Cannot read {str(path)!r}: unknown extension {suffix or '(none)'!r}; "
            f"expected one of {', '.join(FILE_EXTENSIONS)}."
        )
    if not path.is_file():
        raise ValueError(f"File not found: {str(path)!r}.")
    reader = {".npy": _read_npy, ".csv": _read_csv, ".npz": _read_npz}[suffix]
    X, y, image_shape = reader(path)
    if X.shape[0] == 0:
        raise ValueError(f"{str(path)!r} contains no samples.")
    bunch = Bunch(data=X, target=y, image_shape=image_shape, name=path.name)
    return (bunch.data, bunch.target) if return_X_y else bunch


def _as_float(X, path):
    """``X`` as float32 if it is float32, float64 otherwise; reject non-numbers."""
    if X.dtype.kind not in "biuf":
        raise ValueError(
            f"{str(path)!r} does not hold numbers (dtype {X.dtype}); NMF needs "
            "numeric data."
        )
    return X.astype(np.float32 if X.dtype == np.float32 else np.float64, copy=False)


def _read_npy(path):
    try:
        # No pickles: a data file must not be able to run code when loaded.
        X = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(
            f"Cannot read {str(path)!r} as a numeric .npy array: {exc}") from None
    if not isinstance(X, np.ndarray):
        raise ValueError(f"{str(path)!r} is an archive, not a single .npy array.")
    if X.ndim not in (2, 3):
        raise ValueError(
            f"{str(path)!r} holds an array of shape {X.shape}; expected a 2-D "
            "array (n_samples, n_features) or a 3-D stack of images."
        )
    image_shape = X.shape[1:] if X.ndim == 3 else None
    return _as_float(X.reshape(X.shape[0], -1), path), None, image_shape


def _read_npz(path):
    try:
        X = sp.load_npz(path)
    except (ValueError, KeyError, OSError) as exc:
        raise ValueError(
            f"Cannot read {str(path)!r} as a sparse matrix saved with "
            f"scipy.sparse.save_npz: {exc}"
        ) from None
    return _as_float(X.tocsr(), path), None, None


def _is_number(field):
    try:
        float(field)
    except ValueError:
        return False
    return True


def _read_csv(path):
    with open(path, newline="") as stream:
        first = next(csv.reader(stream), None)
    if not first:
        raise ValueError(f"{str(path)!r} is empty.")
    has_header = not all(_is_number(field) for field in first)
    has_labels = has_header and first[-1].strip().lower() in LABEL_COLUMNS
    n_columns = len(first)
    if has_labels and n_columns < 2:
        raise ValueError(f"{str(path)!r} has a label column but no features.")
    feature_columns = range(n_columns - 1) if has_labels else range(n_columns)
    options = dict(delimiter=",", skiprows=int(has_header), ndmin=2, quotechar='"')
    try:
        X = np.loadtxt(path, usecols=feature_columns, dtype=np.float64, **options)
        y = (np.loadtxt(path, usecols=n_columns - 1, dtype=str, **options)[:, 0]
             if has_labels else None)
    except ValueError as exc:
        raise ValueError(
            f"{str(path)!r} does not hold comma-separated numbers: {exc}"
        ) from None
    return X, None if y is None else _parse_labels(y), None


def _parse_labels(y):
    """Labels as int64 when they are all whole numbers, else as written."""
    y = np.char.strip(y)
    try:
        values = y.astype(np.float64)
    except ValueError:
        return y
    if np.all(np.isfinite(values)) and np.all(values == np.round(values)):
        return values.astype(np.int64)
    return y
