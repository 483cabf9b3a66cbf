"""Checked readers of data and label files, behind :mod:`sknmfcluster.datasets`.

:func:`read_data_file` reads a ``.npy``, ``.csv`` or sparse ``.npz`` file and
:func:`read_label_file` a ``.npy``, ``.csv`` or ``.txt`` file of labels; the
public loaders :func:`~sknmfcluster.datasets.load_data_file` and
:func:`~sknmfcluster.datasets.load_label_file` document the formats and wrap
these. The readers live apart from the data sets because they are a parser
of untrusted input with its own rules: a ``.npy`` header's claimed size is
compared with the file's size before any memory is allocated, archives are
opened without unpickling, a sparse matrix's indices are checked, and every
error is a ``ValueError`` that names the file and, for text, the line and
column, counted from 1.
"""

import csv
import math
import warnings
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import scipy.sparse as sp

#: File extensions known to :func:`read_data_file`.
FILE_EXTENSIONS = (".npy", ".csv", ".npz")

#: File extensions known to :func:`read_label_file`.
LABEL_FILE_EXTENSIONS = (".npy", ".csv", ".txt")

#: Header names that mark the last column of a CSV file as the labels.
LABEL_COLUMNS = ("label", "y", "target")

# Where text positions count from, said in every message that gives one.
_COUNTED_FROM_1 = "lines and columns are counted from 1"


def read_data_file(path, label_column=None):
    """Samples, labels and image shape of a ``.npy``, ``.csv`` or ``.npz`` file.

    Parameters
    ----------
    path : str or path-like
        File to read.
    label_column : str or int, default=None
        For a ``.csv`` file, the column that holds the labels, as
        :func:`~sknmfcluster.datasets.load_data_file` describes it.

    Returns
    -------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The samples, float32 if stored as float32 and float64 otherwise.
    y : ndarray of shape (n_samples,) or None
        Labels from a CSV label column, None without one.
    image_shape : tuple of int or None
        Shape of one image for a 3-D ``.npy`` file, None otherwise.

    Raises
    ------
    ValueError
        If the file cannot be read or does not hold numeric data of the
        expected shape; the message says what is wrong and where.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FILE_EXTENSIONS:
        raise ValueError(
            f"Cannot read {str(path)!r}: unknown extension {suffix or '(none)'!r}; "
            f"expected one of {', '.join(FILE_EXTENSIONS)}."
        )
    if label_column is not None and suffix != ".csv":
        raise ValueError(
            f"label_column applies to .csv files; {str(path)!r} is a {suffix} "
            "file, which holds no labels.")
    with _reading(path):
        _check_file(path)
        if suffix == ".csv":
            X, y = _read_csv(path, label_column)
            image_shape = None
        else:
            X, image_shape = (_read_npy if suffix == ".npy" else _read_npz)(path)
            y = None
    if X.shape[0] == 0:
        raise ValueError(f"{str(path)!r} contains no samples.")
    if X.shape[1] == 0:
        raise ValueError(f"{str(path)!r} has no features (shape {X.shape}).")
    return X, y, image_shape


def read_label_file(path):
    """One label per sample from a ``.npy``, ``.csv`` or ``.txt`` file.

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
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in LABEL_FILE_EXTENSIONS:
        raise ValueError(
            f"Cannot read labels from {str(path)!r}: unknown extension "
            f"{suffix or '(none)'!r}; expected one of "
            f"{', '.join(LABEL_FILE_EXTENSIONS)}.")
    with _reading(path):
        _check_file(path)
        y = _read_npy_labels(path) if suffix == ".npy" else _read_text_labels(path)
    if len(y) == 0:
        raise ValueError(f"{str(path)!r} holds no labels.")
    return y


def _check_file(path):
    """Refuse what is not a non-empty regular file, naming what it is instead."""
    if path.is_dir():
        raise ValueError(f"{str(path)!r} is a directory, not a data file.")
    if not path.exists():
        raise ValueError(f"File not found: {str(path)!r}.")
    if not path.is_file():
        raise ValueError(f"{str(path)!r} is not a regular file.")
    if path.stat().st_size == 0:
        raise ValueError(f"{str(path)!r} is empty (0 bytes).")


@contextmanager
def _reading(path):
    """Turn an operating-system error while reading ``path`` into a ValueError."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ValueError(f"Cannot read {str(path)!r}: {reason}.") from None


def _as_float(X, path):
    """``X`` as float32 if it is float32, float64 otherwise; reject non-numbers."""
    if X.dtype.kind not in "biuf":
        raise ValueError(
            f"{str(path)!r} does not hold numbers (dtype {X.dtype}); NMF needs "
            "numeric data."
        )
    return X.astype(np.float32 if X.dtype == np.float32 else np.float64, copy=False)


# -- .npy and .npz --------------------------------------------------------------
def _npy_header(stream, size, where):
    """Read a ``.npy`` header from ``stream``; check it against ``size`` bytes.

    Returns ``(shape, dtype)``, the stream positioned at the data. Refuses a
    file that is not ``.npy``, an object (pickled) dtype, and a header that
    announces more or fewer bytes than ``size``: the size is checked here,
    before numpy allocates the array the header claims.
    """
    fmt = np.lib.format
    try:
        version = fmt.read_magic(stream)
    except ValueError:
        raise ValueError(
            f"{where} is not a .npy file: it does not start with the .npy "
            "signature (\\x93NUMPY). Save arrays with numpy.save.") from None
    readers = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0,
               (3, 0): fmt.read_array_header_2_0}
    if version not in readers:
        raise ValueError(f"{where} has an unknown .npy format version {version}.")
    try:
        shape, _, dtype = readers[version](stream)
    except ValueError as exc:
        raise ValueError(f"{where} has a truncated or corrupt .npy header "
                         f"({exc}).") from None
    if dtype.hasobject:
        raise ValueError(
            f"{where} holds Python objects (dtype {dtype}), not numbers; such "
            "files are not loaded, as loading them could run code. Save an "
            "array of numbers.")
    if any(n < 0 for n in shape):
        raise ValueError(f"{where} has a corrupt .npy header (shape {shape}).")
    expected, available = math.prod(shape) * dtype.itemsize, size - stream.tell()
    announced = (f"its header announces an array of shape {shape} and dtype "
                 f"{dtype} ({expected:,} bytes)")
    if available < expected:
        raise ValueError(f"{where} is truncated: {announced}, but only "
                         f"{available:,} bytes follow the header.")
    if available > expected:
        raise ValueError(
            f"{where} has {available - expected:,} bytes more than its header "
            f"announces ({announced}); it is not one array written by "
            "numpy.save.")
    return shape, dtype


def _read_npy_array(path):
    """The array in a ``.npy`` file, its header checked before it is loaded."""
    with open(path, "rb") as stream:
        _npy_header(stream, path.stat().st_size, repr(str(path)))
    try:
        # No pickles: a data file must not be able to run code when loaded.
        return np.load(path, allow_pickle=False)
    except (ValueError, EOFError) as exc:
        raise ValueError(
            f"Cannot read {str(path)!r} as a numeric .npy array: {exc}") from None


def _read_npy(path):
    X = _read_npy_array(path)
    if X.ndim not in (2, 3):
        raise ValueError(
            f"{str(path)!r} holds an array of shape {X.shape}; expected a 2-D "
            "array (n_samples, n_features) or a 3-D stack of images."
        )
    image_shape = X.shape[1:] if X.ndim == 3 else None
    n_features = int(np.prod(X.shape[1:]))  # -1 cannot be inferred from 0 rows
    return _as_float(X.reshape(X.shape[0], n_features), path), image_shape


def _check_npz_members(path):
    """Refuse what is not a ``save_npz`` archive, before numpy reads a member."""
    with open(path, "rb") as stream:  # is_zipfile(path) hides an OSError
        is_zip = zipfile.is_zipfile(stream)
    if not is_zip:
        raise ValueError(
            f"{str(path)!r} is not a .npz archive (a zip file written by "
            "scipy.sparse.save_npz), or it is truncated.")
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: info for info in archive.infolist()}
        keys = sorted(name.removesuffix(".npy") for name in members)
        if "format.npy" not in members:
            raise ValueError(
                f"{str(path)!r} is a NumPy archive of arrays "
                f"({', '.join(map(repr, keys))}), not a sparse matrix saved "
                "with scipy.sparse.save_npz. Save a dense array with "
                "numpy.save as a .npy file.")
        for name, info in members.items():
            with archive.open(info) as stream:
                _npy_header(stream, info.file_size, f"{str(path)!r} (member {name})")


def _read_npz(path):
    try:
        _check_npz_members(path)
        X = sp.load_npz(path)
    except (KeyError, EOFError, RuntimeError, zipfile.BadZipFile, zlib.error) as exc:
        # RuntimeError: an encrypted member or an unsupported compression.
        raise ValueError(
            f"Cannot read {str(path)!r} as a sparse matrix saved with "
            f"scipy.sparse.save_npz: {type(exc).__name__}: {exc}") from None
    if X.ndim != 2:
        raise ValueError(f"{str(path)!r} holds a sparse array of shape "
                         f"{X.shape}; expected 2-D (n_samples, n_features).")
    X = X.tocsr()
    try:
        # scipy does not check the indices on loading; out-of-range ones would
        # make the kernels read outside the arrays.
        X.check_format(full_check=True)
    except ValueError as exc:
        raise ValueError(
            f"{str(path)!r} is not a valid sparse matrix: {exc}.") from None
    return _as_float(X, path), None


def _read_npy_labels(path):
    y = _read_npy_array(path)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"{str(path)!r} holds an array of shape {y.shape}; expected one "
            "label per sample (a 1-D array).")
    if y.dtype.kind not in "biufUS":
        raise ValueError(f"{str(path)!r} holds {y.dtype} values, not labels.")
    return _parse_labels(y.astype(str))


# -- text -----------------------------------------------------------------------
def _is_number(field):
    try:
        float(field)
    except ValueError:
        return False
    return True


def _text_lines(path):
    """``(line number, text)`` of the non-blank lines, comments removed."""
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as stream:
        for number, line in enumerate(stream, start=1):
            text = line.split("#", 1)[0]
            if text.strip():
                yield number, text


def _fields(text):
    return next(csv.reader([text], quotechar='"'))


def _read_text_labels(path):
    rows = []
    for number, text in _text_lines(path):
        fields = _fields(text)
        if len(fields) != 1:
            raise ValueError(
                f"{str(path)!r}, line {number} has {len(fields)} fields; a "
                f"labels file holds one label per line ({_COUNTED_FROM_1}).")
        rows.append(fields[0].strip())
    if rows and (rows[0].lower() in LABEL_COLUMNS or (
            not _is_number(rows[0]) and len(rows) > 1
            and all(_is_number(value) for value in rows[1:]))):
        rows = rows[1:]  # a header
    return _parse_labels(np.array(rows, dtype=str))


def _read_csv(path, label_column):
    """Features and labels (or None) of a CSV file; errors counted from 1."""
    header, skip, n_columns, first = _csv_layout(path)
    label = _label_index(path, header, n_columns, label_column)
    if label is not None and n_columns < 2:
        raise ValueError(f"{str(path)!r} has a label column but no features.")
    # The label column goes through a converter that numbers its values in
    # order of appearance, so that one pass reads numbers and text labels
    # and numpy checks that every row has every column.
    codes = {}
    converters = None if label is None else {
        label: lambda text: codes.setdefault(text.strip(), len(codes))}
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*input contained no data")
            table = np.loadtxt(path, delimiter=",", skiprows=skip, ndmin=2,
                               quotechar='"', dtype=np.float64, encoding="utf-8-sig",
                               converters=converters)
        if table.shape[0] and table.shape[1] != n_columns:
            raise ValueError("rows are not as wide as the first line")
    except ValueError as exc:  # UnicodeDecodeError included
        problem = _csv_problem(path, skip, n_columns, first, label) or str(exc)
        raise ValueError(
            f"{str(path)!r} does not hold comma-separated numbers: {problem}."
        ) from None
    if label is None or table.shape[0] == 0:
        return table if label is None else table[:, :0], None
    names = np.array(list(codes), dtype=str)
    y = names[table[:, label].astype(np.intp)]
    return np.delete(table, label, axis=1), _parse_labels(y)


def _csv_layout(path):
    """``(header, skip, n_columns, first)`` of a CSV file.

    ``header``: the header's fields, or None; ``skip``: the number of lines
    before the data; ``first``: the number of the first line that is not
    blank or a comment (the header or the first sample).
    """
    first, text = next(_text_lines(path), (0, ""))
    if not text:
        raise ValueError(f"{str(path)!r} holds only blank or comment lines.")
    fields = [field.strip() for field in _fields(text)]
    if not all(_is_number(field) for field in fields):
        return fields, first, len(fields), first
    return _commented_header(path, len(fields)), first - 1, len(fields), first


def _commented_header(path, n_columns):
    """The header that :func:`numpy.savetxt` writes as a ``#`` comment, or None."""
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as stream:
        line = stream.readline()
    if not line.startswith("#"):
        return None
    fields = [field.strip() for field in _fields(line[1:].rstrip("\r\n"))]
    if len(fields) == n_columns and not all(map(_is_number, fields)):
        return fields
    return None


def _label_index(path, header, n_columns, label_column):
    """Index from 0 of the label column, or None; ``header`` None if absent."""
    if label_column is None:
        if header and header[-1].lower() in LABEL_COLUMNS:
            return len(header) - 1
        return None
    if header and isinstance(label_column, str):
        if label_column.strip() in header:
            return header.index(label_column.strip())
        folded = [name.casefold() for name in header]
        if folded.count(label_column.strip().casefold()) == 1:
            return folded.index(label_column.strip().casefold())
    try:
        number = int(label_column)
    except ValueError:
        if header is None:
            raise ValueError(
                f"{str(path)!r} has no header line, so its columns have no "
                f"names; give the label column's number (1 = first, -1 = last)."
            ) from None
        raise ValueError(
            f"{str(path)!r} has no column named {label_column!r}; its columns "
            f"are {', '.join(map(repr, header))} (or give a number: 1 = first, "
            "-1 = last).") from None
    if not (1 <= number <= n_columns or -n_columns <= number <= -1):
        raise ValueError(
            f"label column {number} is out of range: {str(path)!r} has "
            f"{n_columns} columns, numbered 1 to {n_columns} (or -1 for the "
            "last).")
    return number - 1 if number > 0 else n_columns + number


def _csv_problem(path, skip, n_columns, first, label):
    """The first line after ``skip`` that is not ``n_columns`` numbers, or None."""
    for number, text in _text_lines(path):
        if number <= skip:
            continue
        fields = _fields(text)
        if len(fields) != n_columns:
            noun = "field" if len(fields) == 1 else "fields"
            return (f"line {number} has {len(fields)} {noun} where line {first} "
                    f"has {n_columns} ({_COUNTED_FROM_1})")
        for column, field in enumerate(fields):
            if column != label and not _is_number(field):
                return (f"line {number}, column {column + 1}: "
                        f"{field.strip()!r} is not a number ({_COUNTED_FROM_1})")
    return None


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
