"""Data sets for examples and the command line, and a loader for data files.

:func:`load_dataset` gives the two image data sets the project's examples
start from (digits, which ships with scikit-learn, and MNIST, which needs a
network and falls back to digits without one); :func:`load_data_file` reads a
user's ``.npy``, ``.csv`` or sparse ``.npz`` file and :func:`load_label_file`
a file of labels.

A file is checked before it is trusted: a ``.npy`` header's claimed size is
compared with the file's size before any memory is allocated, archives are
opened without unpickling, and every error names the file and, for text, the
line and column, counted from 1.
"""

import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import fetch_openml, load_digits
from sklearn.utils import Bunch

# The file formats are defined beside their readers, and public here.
from ._files import (
    FILE_EXTENSIONS,
    LABEL_COLUMNS,
    LABEL_FILE_EXTENSIONS,
    read_data_file,
    read_label_file,
)
from ._progress import say

__all__ = [
    "DATASETS",
    "FILE_EXTENSIONS",
    "LABEL_COLUMNS",
    "LABEL_FILE_EXTENSIONS",
    "load_data_file",
    "load_dataset",
    "load_label_file",
]

#: Data sets known to :func:`load_dataset`.
DATASETS = ("digits", "mnist")

# Largest pixel value of each data set, to scale pixels to [0, 1].
_DIGITS_MAX = 16.0
_MNIST_MAX = 255.0


def load_dataset(name, *, return_X_y=True, verbose=True, fallback=True):
    """Load a labelled image data set with pixels scaled to ``[0, 1]``.

    ``"digits"`` is :func:`sklearn.datasets.load_digits` (1,797 images of
    8 x 8 pixels, 10 classes), always available offline. ``"mnist"`` is
    ``fetch_openml("mnist_784")`` (70,000 images of 28 x 28 pixels, 10
    classes), downloaded on first use and cached by scikit-learn; when it
    cannot be downloaded (no network, a time-out, a server error), a
    ``UserWarning`` says so and digits is returned instead, unless
    ``fallback=False``.

    Parameters
    ----------
    name : {"digits", "mnist"}
        Data set to load.
    return_X_y : bool, default=True
        If True, return ``(data, target)`` instead of a Bunch.
    verbose : bool, default=True
        Print a line on standard error before fetching MNIST, which can take
        a minute.
    fallback : bool, default=True
        When MNIST cannot be downloaded, return digits (True) or raise
        ``OSError`` (False).

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

    Raises
    ------
    OSError
        When MNIST cannot be downloaded and ``fallback`` is False.

    Warns
    -----
    UserWarning
        When MNIST cannot be downloaded and digits is returned instead.

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
    bunch = _load_mnist(verbose, fallback) if name == "mnist" else None
    if bunch is None:
        X, y = load_digits(return_X_y=True)
        bunch = Bunch(data=X / _DIGITS_MAX, target=y.astype(np.int64),
                      image_shape=(8, 8), name="digits")
    return (bunch.data, bunch.target) if return_X_y else bunch


def _load_mnist(verbose, fallback):
    """MNIST as a Bunch; if it cannot be fetched, None and a ``UserWarning``
    (``fallback``) or an ``OSError``."""
    if verbose:
        # stderr: a program's standard output is for its results.
        say("fetching MNIST from OpenML (downloaded on first use, then cached "
            "by scikit-learn) ...")
    try:
        with warnings.catch_warnings():
            # fetch_openml warns at each retry; one warning below says it all.
            warnings.filterwarnings(
                "ignore", message="A network error occurred", category=UserWarning)
            mnist = fetch_openml("mnist_784", as_frame=False, parser="auto")
    except Exception as exc:  # noqa: BLE001 - any failure means "use digits"
        if not fallback:
            raise OSError(f"MNIST could not be downloaded ({type(exc).__name__}: "
                          f"{exc})") from exc
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


def load_data_file(path, *, return_X_y=True, label_column=None):
    """Load non-negative data for clustering from a ``.npy``, ``.csv`` or ``.npz`` file.

    The format follows the extension:

    - ``.npy``: a numeric array saved with :func:`numpy.save`, either 2-D
      (one sample per row) or 3-D (a stack of images, flattened to rows; the
      image shape is then returned).
    - ``.csv``: comma-separated numbers, one sample per line; text after a
      ``#`` is a comment. The first line is a header when any of its fields
      is not a number. One column may hold labels (see ``label_column``);
      the other columns are the features.
    - ``.npz``: a sparse matrix saved with :func:`scipy.sparse.save_npz`,
      returned in CSR format.

    The file is checked before it is loaded: a ``.npy`` file (or a member of
    a ``.npz`` archive) must be as long as its header announces, so a
    damaged header is refused without allocating the memory it claims; no
    file is ever unpickled; a sparse matrix's indices must be in range.

    Parameters
    ----------
    path : str or path-like
        File to read.
    return_X_y : bool, default=True
        If True, return ``(data, target)`` instead of a Bunch.
    label_column : str or int, default=None
        For a ``.csv`` file, the column that holds the labels: a header name,
        or a column number counted from 1 (negative numbers count from the
        end: -1 is the last column). A string that is not a header name but
        a whole number is read as a number. None means the last column when
        its header name is ``label``, ``y`` or ``target`` (any case), else no
        labels.

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
        If the file does not exist or cannot be read, its extension is not
        ``.npy``, ``.csv`` or ``.npz``, or its content is not numeric data of
        the expected shape; the message says what is wrong and where (CSV
        lines and columns counted from 1).

    See Also
    --------
    load_dataset : Load the digits or MNIST data set.
    load_label_file : Load labels from their own file.
    """
    path = Path(path)
    X, y, image_shape = read_data_file(path, label_column)
    bunch = Bunch(data=X, target=y, image_shape=image_shape, name=path.name)
    return (bunch.data, bunch.target) if return_X_y else bunch


def load_label_file(path):
    """Load one label per sample from a ``.npy``, ``.csv`` or ``.txt`` file.

    - ``.npy``: a 1-D array (or a single column) of numbers or strings,
      saved with :func:`numpy.save`.
    - ``.csv`` or ``.txt``: one label per line. The first line is a header
      when it is ``label``, ``y`` or ``target`` (any case), or when it is
      not a number and every other line is.

    Parameters
    ----------
    path : str or path-like
        File to read.

    Returns
    -------
    labels : ndarray of shape (n_samples,)
        int64 when the labels are all whole numbers, otherwise as written.

    Raises
    ------
    ValueError
        If the file cannot be read or does not hold one label per sample;
        the message says why (lines counted from 1).

    See Also
    --------
    load_data_file : Load the data, with labels from a CSV column.
    """
    return read_label_file(path)
