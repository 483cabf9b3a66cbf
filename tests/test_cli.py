"""Tests of the data loaders and the ``sknmfcluster`` command line (offline)."""

import argparse
import builtins
import io
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from matplotlib.figure import Figure
from sklearn.utils import Bunch

import sknmfcluster
from sknmfcluster import _cli, _progress, datasets
from sknmfcluster._cli import main
from sknmfcluster.datasets import load_data_file, load_dataset
from sknmfcluster.metrics import clustering_accuracy

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def run(tmp_path, monkeypatch, capsys):
    """Run the CLI in ``tmp_path``; return (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)

    def _run(*argv):
        code = main(["cluster", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


@pytest.fixture
def blocks():
    """Three groups of 20 samples, each living on its own 2 of 6 features."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 20)
    X = 0.01 * rng.random((60, 6))
    for group in range(3):
        X[y == group, 2 * group:2 * group + 2] += 1 + rng.random((20, 2))
    return X, y


def _scores(out):
    """{method: (accuracy, nmi)} from the score table of the CLI output."""
    scores = {}
    for line in out.splitlines():
        fields = line.split()
        if fields and fields[0] in ("NMF", "KMeans"):
            scores[fields[0]] = (float(fields[1]), float(fields[2]))
    return scores


def _error(err):
    """The one ``error:`` line of stderr (progress lines come before it)."""
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, err
    assert "Traceback" not in err
    return errors[0]


def _write_csv(path, X, header=None, labels=None):
    columns = [X] if labels is None else [X, labels[:, None]]
    np.savetxt(path, np.hstack(columns), delimiter=",", fmt="%.17g",
               header=header or "", comments="")


# -- load_dataset -------------------------------------------------------------
def test_load_dataset_digits_bunch():
    data = load_dataset("digits", return_X_y=False)
    assert data.name == "digits" and data.image_shape == (8, 8)
    assert data.data.shape == (1797, 64) and data.data.dtype == np.float64
    assert data.data.min() == 0.0 and data.data.max() == 1.0
    assert data.target.dtype == np.int64
    assert set(np.unique(data.target)) == set(range(10))


def test_load_dataset_unknown_name():
    with pytest.raises(ValueError, match="Unknown data set 'faces'"):
        load_dataset("faces")


def test_load_dataset_mnist_scales_pixels(monkeypatch):
    def fake_fetch_openml(name, **kwargs):
        assert name == "mnist_784" and kwargs["as_frame"] is False
        data = np.array([[0.0] * 783 + [255.0], [51.0] * 784])
        return Bunch(data=data, target=np.array(["7", "0"], dtype=object))

    monkeypatch.setattr(datasets, "fetch_openml", fake_fetch_openml)
    data = load_dataset("mnist", return_X_y=False, verbose=False)
    assert data.name == "mnist" and data.image_shape == (28, 28)
    assert data.data.max() == 1.0 and data.data[1, 0] == pytest.approx(0.2)
    assert data.target.dtype == np.int64
    np.testing.assert_array_equal(data.target, [7, 0])


def _offline(*args, **kwargs):
    raise OSError("network is unreachable")


def test_load_dataset_mnist_falls_back_to_digits(monkeypatch):
    monkeypatch.setattr(datasets, "fetch_openml", _offline)
    with pytest.warns(UserWarning, match="MNIST could not be downloaded.*digits"):
        data = load_dataset("mnist", return_X_y=False, verbose=False)
    assert data.name == "digits" and data.image_shape == (8, 8)
    assert data.data.shape == (1797, 64)


# -- load_data_file -----------------------------------------------------------
def test_load_npy_round_trip(tmp_path, blocks):
    X, _ = blocks
    np.save(tmp_path / "X.npy", X.astype(np.float32))
    data = load_data_file(tmp_path / "X.npy", return_X_y=False)
    assert data.data.dtype == np.float32 and data.target is None
    assert data.image_shape is None and data.name == "X.npy"
    np.testing.assert_array_equal(data.data, X.astype(np.float32))


def test_load_npy_image_stack_is_flattened(tmp_path):
    images = np.arange(24, dtype=np.int64).reshape(2, 3, 4)
    np.save(tmp_path / "images.npy", images)
    data = load_data_file(tmp_path / "images.npy", return_X_y=False)
    assert data.image_shape == (3, 4) and data.data.dtype == np.float64
    np.testing.assert_array_equal(data.data, images.reshape(2, 12))


@pytest.mark.parametrize("header", [None, "a,b,c,d,e,f"])
def test_load_csv_without_labels(tmp_path, blocks, header):
    X, _ = blocks
    _write_csv(tmp_path / "X.csv", X, header=header)
    loaded, target = load_data_file(tmp_path / "X.csv")
    assert target is None
    np.testing.assert_array_equal(loaded, X)


@pytest.mark.parametrize("label_name", ["label", "Y", " target"])
def test_load_csv_last_column_named_label(tmp_path, blocks, label_name):
    X, y = blocks
    _write_csv(tmp_path / "X.csv", X, header="a,b,c,d,e,f," + label_name, labels=y)
    loaded, target = load_data_file(tmp_path / "X.csv")
    np.testing.assert_array_equal(loaded, X)
    assert target.dtype == np.int64
    np.testing.assert_array_equal(target, y)


def test_load_csv_byte_order_mark_is_not_a_header(tmp_path):
    # Spreadsheets write UTF-8 with a byte order mark.
    (tmp_path / "X.csv").write_bytes("\ufeff1,2\n3,4\n".encode())
    X, y = load_data_file(tmp_path / "X.csv")
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    assert y is None


def test_load_csv_text_labels_kept(tmp_path):
    (tmp_path / "X.csv").write_text("a,b,label\n1,2,cat\n3,4,dog\n")
    X, y = load_data_file(tmp_path / "X.csv")
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(y, ["cat", "dog"])


def test_load_sparse_npz_round_trip(tmp_path):
    X = sp.random(30, 12, density=0.3, format="csc", random_state=0)
    sp.save_npz(tmp_path / "X.npz", X)
    loaded, target = load_data_file(tmp_path / "X.npz")
    assert sp.issparse(loaded) and loaded.format == "csr" and target is None
    np.testing.assert_array_equal(loaded.toarray(), X.toarray())


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("X.txt", "1,2\n", "unknown extension '.txt'"),
        ("missing.npy", None, "File not found"),
        ("X.csv", "a,b\n1,2\n3,oops\n", "does not hold comma-separated numbers"),
        ("X.csv", "", "is empty"),
        ("X.npz", None, "sparse matrix saved with scipy.sparse.save_npz"),
        ("X.npy", None, "expected a 2-D array"),
    ],
)
def test_load_data_file_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    elif name == "X.npz":
        np.savez(path, X=np.ones((2, 2)))
    elif name == "X.npy":
        np.save(path, np.ones(5))
    with pytest.raises(ValueError, match=message):
        load_data_file(path)


def test_load_npy_rejects_text_arrays(tmp_path):
    np.save(tmp_path / "X.npy", np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match="does not hold numbers"):
        load_data_file(tmp_path / "X.npy")


# -- the command line ---------------------------------------------------------
def test_cli_digits_compares_nmf_and_kmeans(run, tmp_path):
    code, out, err = run("digits", "--max-iter", "30")
    assert code == 0
    assert "digits: 1797 samples x 64 features, 10 classes" in out
    scores = _scores(out)
    assert set(scores) == {"NMF", "KMeans"}
    labels = np.load(tmp_path / "labels.npy")
    assert labels.shape == (1797,)
    # The printed accuracy is the accuracy of the labels written.
    y = load_dataset("digits")[1]
    assert scores["NMF"][0] == pytest.approx(clustering_accuracy(y, labels), abs=1e-4)
    assert 0.1 < scores["KMeans"][0] <= 1.0
    # 30 iterations is below convergence on digits: one concise warning line.
    assert "warning: NMF stopped at --max-iter" in err


@pytest.mark.parametrize("fmt", ["npy", "csv", "csv-labels", "npz"])
def test_cli_data_files(run, tmp_path, blocks, fmt):
    X, y = blocks
    path = tmp_path / f"X.{fmt[:3]}"
    if fmt == "npy":
        np.save(path, X)
    elif fmt == "csv":
        _write_csv(path, X)
    elif fmt == "csv-labels":
        _write_csv(path, X, header="a,b,c,d,e,f,label", labels=y)
    else:
        sp.save_npz(path, sp.csr_matrix(X))
    code, out, err = run(str(path), "--n-clusters", "3", "--output", "out.csv")
    assert code == 0, err
    assert f"X.{fmt[:3]}: 60 samples x 6 features" in out
    labels = np.loadtxt(tmp_path / "out.csv", skiprows=1, dtype=np.int64)
    assert labels.shape == (60,)
    # Each group lives on its own features: NMF recovers the groups exactly.
    assert clustering_accuracy(y, labels) == 1.0
    if fmt == "csv-labels":
        assert _scores(out)["NMF"] == (1.0, 1.0)
    else:
        assert "no labels" in out and _scores(out) == {}


def test_cli_default_rank_without_labels_is_8(run, tmp_path, blocks):
    np.save(tmp_path / "X.npy", blocks[0])
    code, out, _ = run("X.npy")
    assert code == 0 and "NMFClusterer(n_clusters=8, method='symmetric')" in out


def test_cli_method_and_neighbours_reach_the_estimator(run, tmp_path):
    code, out, _ = run("digits", "--method", "nmf", "--max-iter", "30",
                       "--no-kmeans")
    assert code == 0 and "method='nmf'" in out
    nmf_accuracy = _scores(out)["NMF"][0]
    code, out, _ = run("digits", "--n-neighbors", "5", "--no-kmeans")
    assert code == 0 and "method='symmetric'" in out
    # the graph method clusters digits far better than plain NMF's argmax
    assert _scores(out)["NMF"][0] > nmf_accuracy + 0.2


def test_cli_solver_reaches_the_estimator(run):
    code, _, err = run("digits", "--method", "nmf", "--solver", "cd",
                       "--beta-loss", "itakura-saito", "--no-kmeans")
    assert code == 2
    assert ("solver='cd' supports beta_loss='frobenius' and "
            "'kullback-leibler' only") in _error(err)
    code, out, _ = run("digits", "--method", "nmf", "--solver", "mu",
                       "--max-iter", "20", "--no-kmeans")
    assert code == 0 and "method='nmf'" in out


def test_cli_negative_data_is_an_error(run, tmp_path):
    np.save(tmp_path / "X.npy", -np.ones((10, 4)))
    code, _, err = run("X.npy", "--n-clusters", "2")
    assert code == 2
    assert "Negative values" in _error(err)
    assert not (tmp_path / "labels.npy").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["nope"], "Unknown data 'nope'"),
        (["missing.csv"], "File not found"),
        (["digits", "--output", "labels.txt"], "--output must end in .npy or .csv"),
        (["digits", "--output", "no/such/dir/l.npy"], "does not exist"),
    ],
)
def test_cli_bad_arguments_exit_2(run, argv, message):
    code, _, err = run(*argv)
    assert code == 2 and message in _error(err)


def test_cli_rejects_non_positive_rank(run):
    with pytest.raises(SystemExit) as exc_info:
        run("digits", "--n-clusters", "0")
    assert exc_info.value.code == 2


def test_cli_components_image(run, tmp_path):
    code, out, _ = run("digits", "--max-iter", "5", "--no-kmeans",
                       "--components-image", "components.png")
    assert code == 0
    assert "KMeans" not in _scores(out) and "NMF" in _scores(out)
    assert (tmp_path / "components.png").read_bytes()[:8] == PNG_SIGNATURE


def test_cli_components_image_needs_an_image_shape(run, tmp_path, blocks):
    np.save(tmp_path / "X.npy", blocks[0])
    code, _, err = run("X.npy", "--components-image", "c.png")
    assert code == 2 and "cannot draw 6 features as an image" in err
    assert not (tmp_path / "labels.npy").exists()


def test_cli_mnist_offline_falls_back_to_digits(run, monkeypatch):
    monkeypatch.setattr(datasets, "fetch_openml", _offline)
    code, out, err = run("mnist", "--max-iter", "5", "--no-kmeans")
    assert code == 0
    assert "warning: MNIST could not be downloaded" in err
    assert "digits: 1797 samples x 64 features" in out


# -- issue 10: every bad file is exit 2 with a message (item 9) --------------
def _npy_header(shape, dtype="<f8"):
    """The bytes of a .npy header announcing ``shape`` (no data)."""
    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        stream, {"descr": dtype, "fortran_order": False, "shape": shape})
    return stream.getvalue()


def _make_bad_file(path, kind):
    """Write a broken data file of the given kind at ``path``."""
    rng = np.random.default_rng(0)
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        np.save(path, np.ones((50, 6)))
        path.write_bytes(path.read_bytes()[:300])
    elif kind == "huge header":
        # 10^6 x 10^6 float64 is 8 TB: must be refused from the file size.
        path.write_bytes(_npy_header((10**6, 10**6)) + b"\0" * 16)
    elif kind == "random bytes":
        path.write_bytes(b"\x80" + rng.bytes(300))
    elif kind == "objects":
        np.save(path, np.array([[1, "a"], [2, None]], dtype=object))
    elif kind == "trailing bytes":
        np.save(path, np.ones((5, 6)))
        path.write_bytes(path.read_bytes() + b"junk")
    elif kind == "no features":
        np.save(path, np.ones((5, 0)))
    elif kind == "no samples":  # regression: "cannot reshape array of size 0"
        np.save(path, np.ones((0, 4)))
    elif kind == "no images":
        np.save(path, np.ones((0, 8, 8)))
    elif kind == "inf":
        X = np.ones((5, 3))
        X[3, 1] = np.inf
        np.save(path, X)
    elif kind == "dense npz":
        np.savez(path, X=np.ones((5, 3)))
    elif kind == "random npz":
        path.write_bytes(rng.bytes(300))
    elif kind == "nan npz":
        X = np.ones((5, 3))
        X[1, 2] = np.nan
        sp.save_npz(path, sp.csr_matrix(X))
    elif kind in ("ragged csv", "ragged csv with labels", "text in csv", "nan csv"):
        path.write_text({
            "ragged csv": "a,b\n1,2\n3\n4,5\n",
            "ragged csv with labels": "a,b,label\n1,2,0\n3,4,5,1\n",
            "text in csv": "a,b\n1,2\n3,oops\n",
            "nan csv": "1,2\n3,nan\n",
        }[kind])
    elif kind == "directory":
        path.mkdir()


@pytest.mark.parametrize(
    "name, kind, message",
    [
        ("X.npy", "empty", "is empty (0 bytes)"),
        ("X.npy", "truncated", "is truncated: its header announces an array of shape (50, 6)"),
        ("X.npy", "huge header", "shape (1000000, 1000000)"),
        ("X.npy", "random bytes", "is not a .npy file"),
        ("X.npy", "objects", "holds Python objects"),
        ("X.npy", "trailing bytes", "4 bytes more than its header announces"),
        ("X.npy", "no features", "has no features"),
        ("X.npy", "no samples", "contains no samples"),
        ("X.npy", "no images", "contains no samples"),
        ("X.npy", "inf", "sample 4, feature 2 is inf"),
        ("X.npz", "dense npz", "not a sparse matrix saved with scipy.sparse.save_npz"),
        ("X.npz", "random npz", "is not a .npz archive"),
        ("X.csv", "ragged csv", "line 3 has 1 field where line 1 has 2"),
        ("X.csv", "ragged csv with labels", "line 3 has 4 fields where line 1 has 3"),
        ("X.csv", "text in csv", "line 3, column 2: 'oops' is not a number"),
        ("X.npy", "directory", "is a directory"),
    ],
)
def test_cli_bad_file_is_exit_2_with_a_message(run, tmp_path, name, kind, message):
    _make_bad_file(tmp_path / name, kind)
    code, out, err = run(name, "--n-clusters", "2", "--method", "nmf")
    assert code == 2, err
    assert message in _error(err)
    assert "pickle" not in err
    assert not (tmp_path / "labels.npy").exists()


@pytest.mark.parametrize("name, kind, message", [
    ("X.npz", "nan npz", "sample 2, feature 3 is nan"),
    ("X.csv", "nan csv", "sample 2, feature 2 is nan"),
])
def test_cli_missing_value_is_exit_2_for_the_graph_methods(run, tmp_path, name,
                                                           kind, message):
    # --method nmf fits missing values (see test_cli_method_nmf_fits_...)
    _make_bad_file(tmp_path / name, kind)
    code, _, err = run(name, "--n-clusters", "2", "--method", "symmetric")
    assert code == 2, err
    assert message in _error(err) and "--method nmf" in _error(err)
    assert not (tmp_path / "labels.npy").exists()


@pytest.mark.parametrize(
    "name, kind, message",
    [
        ("X.npy", "empty", "is empty"),
        ("X.npy", "truncated", "is truncated"),
        ("X.npy", "huge header", "is truncated"),
        ("X.npy", "random bytes", "is not a .npy file"),
        ("X.npy", "objects", "holds Python objects"),
        ("X.npy", "trailing bytes", "more than its header announces"),
        ("X.npy", "no features", "has no features"),
        ("X.npy", "no samples", "contains no samples"),
        ("X.npy", "no images", "contains no samples"),
        ("X.npz", "dense npz", "not a sparse matrix"),
        ("X.npz", "random npz", "is not a .npz archive"),
        ("X.csv", "ragged csv with labels", "line 3 has 4 fields"),
        ("X.npy", "directory", "is a directory"),
    ],
)
def test_load_data_file_refuses_bad_files(tmp_path, name, kind, message):
    _make_bad_file(tmp_path / name, kind)
    with pytest.raises(ValueError, match=re.escape(message)):
        load_data_file(tmp_path / name)


def test_positions_in_messages_are_counted_from_1(tmp_path):
    for kind in ("ragged csv", "text in csv"):
        _make_bad_file(tmp_path / "X.csv", kind)
        with pytest.raises(ValueError, match="counted from 1"):
            load_data_file(tmp_path / "X.csv")


def test_load_npz_rejects_out_of_range_indices(tmp_path):
    # scipy builds such a matrix without complaint; a kernel would read out of bounds.
    X = sp.csr_matrix(np.ones((3, 3)))
    np.savez(tmp_path / "X.npz", format=np.array("csr"), shape=np.array([3, 3]),
             data=X.data, indices=np.array([0, 1, 99, 0, 1, 2, 0, 1, 2]),
             indptr=X.indptr)
    with pytest.raises(ValueError, match="is not a valid sparse matrix"):
        load_data_file(tmp_path / "X.npz")


def test_load_npz_member_header_larger_than_member(tmp_path):
    # A sparse archive whose data member announces 10^12 values: refused from
    # the member's size, before numpy allocates 8 TB.
    with zipfile.ZipFile(tmp_path / "X.npz", "w") as archive:
        for key, value in [("format", np.array("csr")), ("shape", np.array([2, 2])),
                           ("indices", np.array([0, 1])), ("indptr", np.array([0, 1, 2]))]:
            stream = io.BytesIO()
            np.save(stream, value)
            archive.writestr(f"{key}.npy", stream.getvalue())
        archive.writestr("data.npy", _npy_header((10**12,)) + b"\0" * 16)
    with pytest.raises(ValueError, match="is truncated"):
        load_data_file(tmp_path / "X.npz")


def _deny(path, real_open=builtins.open):
    def fake_open(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and Path(file).name == path.name:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)
    return fake_open


@pytest.mark.parametrize("name", ["X.npy", "X.csv", "X.npz"])
def test_cli_permission_denied(run, tmp_path, monkeypatch, blocks, name):
    # Simulated: the tests may run as root, which chmod does not stop.
    path = tmp_path / name
    if name == "X.csv":
        _write_csv(path, blocks[0])
    elif name == "X.npz":
        sp.save_npz(path, sp.csr_matrix(blocks[0]))
    else:
        np.save(path, blocks[0])
    monkeypatch.setattr(builtins, "open", _deny(path))
    code, _, err = run(name, "--n-clusters", "2")
    assert code == 2
    assert f"Cannot read '{name}': Permission denied" in _error(err)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root reads files whatever their mode")
def test_cli_unreadable_file(run, tmp_path, blocks):
    np.save(tmp_path / "X.npy", blocks[0])
    (tmp_path / "X.npy").chmod(0)
    code, _, err = run("X.npy")
    assert code == 2 and "Permission denied" in err


# -- issue 10: outputs are written whole or not at all (item 10) -------------
def _forbid_fit(monkeypatch):
    def fit(self, X, y=None):
        raise AssertionError("the fit ran before the output paths were checked")
    monkeypatch.setattr(_cli.NMFClusterer, "fit", fit)


def test_cli_output_that_is_a_directory_is_refused_before_the_fit(
        run, tmp_path, monkeypatch):
    (tmp_path / "out.npy").mkdir()
    _forbid_fit(monkeypatch)
    code, _, err = run("digits", "--output", "out.npy")
    assert code == 2 and "error: --output 'out.npy' is a directory" in err


def test_cli_unwritable_directory_is_refused_before_the_fit(run, tmp_path, monkeypatch):
    # As root a chmod does not stop writing: make creating any file fail instead.
    def mkstemp(*args, **kwargs):
        raise PermissionError(13, "Permission denied")
    _forbid_fit(monkeypatch)
    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    code, _, err = run("digits", "--components-image", "c.png")
    assert code == 2
    assert "error: --output: cannot create a file in directory '.': Permission denied" in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes in any directory whatever its mode")
def test_cli_read_only_directory(run, tmp_path, monkeypatch):
    (tmp_path / "ro").mkdir(mode=0o500)
    _forbid_fit(monkeypatch)
    code, _, err = run("digits", "--output", "ro/labels.npy")
    assert code == 2 and "cannot create a file in directory 'ro'" in err


def test_cli_output_never_replaces_an_input(run, tmp_path, blocks):
    X, y = blocks
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    before = {name: (tmp_path / name).read_bytes() for name in ("X.npy", "y.npy")}
    for argv in (["X.npy", "--output", "X.npy"],
                 ["X.npy", "--labels", "y.npy", "--output", "./y.npy"],
                 ["X.npy", "--output", "o.npy", "--components-image", "X.npy"]):
        code, _, err = run(*argv, "--n-clusters", "3")
        assert code == 2 and "error: " in err, argv
    assert {name: (tmp_path / name).read_bytes() for name in before} == before


def test_cli_failed_image_leaves_no_output(run, tmp_path, monkeypatch):
    np.save(tmp_path / "labels.npy", np.arange(3))
    old = (tmp_path / "labels.npy").read_bytes()

    def savefig(self, fname, **kwargs):
        # Half an image, then the disk is full.
        if hasattr(fname, "write"):
            fname.write(b"\x89PNG half an image")
        else:
            Path(fname).write_bytes(b"\x89PNG half an image")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", savefig)
    code, out, err = run("digits", "--method", "nmf", "--max-iter", "5",
                         "--no-kmeans", "--components-image", "c.png")
    assert code == 2
    assert ("error: --components-image: cannot write 'c.png': No space left on "
            "device; no output was written") in err
    # The earlier labels are intact, and no new or temporary file is left.
    assert (tmp_path / "labels.npy").read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.npy"]
    assert "written to" not in out


_FSIZE_SCRIPT = """
import resource, signal, sys
from sknmfcluster import NMFClusterer
from sknmfcluster._cli import main
fit = NMFClusterer.fit
def fit_then_limit(self, *args, **kwargs):
    # Limit the size of files written after the fit: the outputs only, not
    # Numba's cache. A write beyond it fails with EFBIG, even as root.
    result = fit(self, *args, **kwargs)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, resource.RLIM_INFINITY))
    return result
NMFClusterer.fit = fit_then_limit
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE semantics")
def test_cli_file_size_limit_keeps_the_old_labels(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "X.npy", rng.random((400, 5)))
    np.save(tmp_path / "out.npy", np.arange(3))
    old = (tmp_path / "out.npy").read_bytes()
    result = subprocess.run(
        [sys.executable, "-c", _FSIZE_SCRIPT, "cluster", "X.npy", "--method",
         "nmf", "--n-clusters", "3", "--max-iter", "5", "--output", "out.npy"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 2, result.stderr
    assert "error: --output: cannot write 'out.npy': File too large" in result.stderr
    assert (tmp_path / "out.npy").read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X.npy", "out.npy"]


# -- issue 10: never silent; compile time apart (item 11) --------------------
def test_cli_prints_its_phases_on_stderr(run):
    code, out, err = run("digits", "--method", "nmf", "--max-iter", "5")
    assert code == 0
    for phase in ("loading digits", "fitting NMFClusterer(n_clusters=10, method='nmf')",
                  "fitting KMeans(n_clusters=10, n_init=10)", "writing labels.npy"):
        assert f"sknmfcluster: {phase} ..." in err
        assert f"sknmfcluster: {phase}: done in " in err
    # stdout is for results only.
    assert "sknmfcluster:" not in out
    assert out.splitlines()[0].startswith("digits: 1797 samples")


def test_cli_reports_compile_time_apart_from_fit_time(run, monkeypatch):
    clock, compiled = iter(np.arange(100.0, 200.0, 3.0)), iter(np.arange(0.0, 50.0, 2.5))
    monkeypatch.setattr(_cli, "time", SimpleNamespace(perf_counter=lambda: next(clock)))
    monkeypatch.setattr(_progress, "compile_seconds", lambda: next(compiled))
    code, out, _ = run("digits", "--method", "nmf", "--max-iter", "5", "--no-kmeans")
    assert code == 0
    # 3 s of wall time, 2.5 s of it compiling: the fit took 0.5 s.
    assert "fit in 0.50 s (+ 2.50 s compiling Numba kernels)" in out
    assert re.search(r"^NMF +[\d.]+ +[\d.]+ +0\.50 s$", out, re.MULTILINE)


def test_cli_verbose_keeps_stdout_for_results(run):
    code, out, err = run("digits", "--method", "nmf", "--max-iter", "3",
                         "--no-kmeans", "--verbose")
    assert code == 0
    assert "objective" in err and "objective" not in out


# -- issue 10: graph options (item 12) ---------------------------------------
def test_cli_graph_options_reach_the_estimator(run, tmp_path, monkeypatch, blocks):
    seen = {}

    class Spy(_cli.NMFClusterer):
        def fit(self, X, y=None):
            seen.update(self.get_params())
            return super().fit(X, y)

    monkeypatch.setattr(_cli, "NMFClusterer", Spy)
    np.save(tmp_path / "X.npy", blocks[0])
    code, out, err = run("X.npy", "--method", "graph", "--n-clusters", "3",
                         "--graph-strength", "5", "--assign-labels", "kmeans")
    assert code == 0, err
    assert seen["graph_strength"] == 5.0 and seen["assign_labels"] == "kmeans"
    assert "graph_strength=5.0, assign_labels='kmeans'" in out


def test_cli_graph_method_with_its_settings_clusters_digits(run):
    # With argmax labels graph NMF reached 0.36 on digits.
    code, out, _ = run("digits", "--method", "graph", "--graph-strength", "1000",
                       "--assign-labels", "kmeans", "--no-kmeans")
    assert code == 0 and _scores(out)["NMF"][0] > 0.7


def test_cli_graph_method_defaults_cluster_digits(run):
    # The defaults once gave 0.36 with 4 of 10 clusters empty.
    code, out, err = run("digits", "--method", "graph", "--no-kmeans")
    assert code == 0 and _scores(out)["NMF"][0] > 0.75
    assert "empty" not in err


@pytest.mark.parametrize("text, expected", [
    ("itakura-saito", "itakura-saito"), ("1.5", 1.5), ("0", 0.0)])
def test_cli_beta_loss_reaches_the_estimator(run, tmp_path, monkeypatch,
                                             blocks, text, expected):
    seen = {}

    class Spy(_cli.NMFClusterer):
        def fit(self, X, y=None):
            seen.update(self.get_params())
            return super().fit(X, y)

    monkeypatch.setattr(_cli, "NMFClusterer", Spy)
    np.save(tmp_path / "X.npy", blocks[0] + 0.01)  # beta <= 0: no zeros
    code, _, err = run("X.npy", "--method", "nmf", "--n-clusters", "3",
                       "--beta-loss", text)
    assert code == 0, err
    assert seen["beta_loss"] == expected


@pytest.mark.parametrize("text", ["hellinger", "nan", "inf"])
def test_cli_rejects_a_bad_beta_loss(run, text, capsys):
    with pytest.raises(SystemExit) as exc_info:
        run("digits", "--beta-loss", text)
    assert exc_info.value.code == 2
    assert "--beta-loss" in capsys.readouterr().err


@pytest.mark.parametrize("n_neighbors", ["60", "1000"])
def test_cli_rejects_n_neighbors_not_below_n_samples(run, tmp_path, monkeypatch,
                                                     blocks, n_neighbors):
    np.save(tmp_path / "X.npy", blocks[0])
    _forbid_fit(monkeypatch)
    code, _, err = run("X.npy", "--n-neighbors", n_neighbors)
    assert code == 2
    assert f"error: --n-neighbors {n_neighbors} is not below the number of samples (60)" in err


# -- issue 10: labels, version, fallback (item 13) ----------------------------
@pytest.mark.parametrize("labels_file", ["y.npy", "y.csv", "y.txt"])
def test_cli_labels_file(run, tmp_path, blocks, labels_file):
    X, y = blocks
    np.save(tmp_path / "X.npy", X)
    if labels_file == "y.npy":
        np.save(tmp_path / labels_file, y)
    elif labels_file == "y.csv":
        np.savetxt(tmp_path / labels_file, y, fmt="%d", header="label", comments="")
    else:
        (tmp_path / labels_file).write_text("".join(f"class{v}\n" for v in y))
    code, out, err = run("X.npy", "--labels", labels_file)
    assert code == 0, err
    assert "X.npy: 60 samples x 6 features, 3 classes" in out
    assert _scores(out)["NMF"] == (1.0, 1.0)


@pytest.mark.parametrize(
    "content, message",
    [
        (np.arange(59), "'y.npy' holds 59 labels but 'X.npy' has 60 samples"),
        (np.ones((60, 2)), "expected one label per sample"),
    ],
)
def test_cli_bad_labels_file(run, tmp_path, blocks, content, message):
    np.save(tmp_path / "X.npy", blocks[0])
    np.save(tmp_path / "y.npy", content)
    code, _, err = run("X.npy", "--labels", "y.npy")
    assert code == 2
    assert _error(err).startswith("error: --labels: ") and message in err


@pytest.mark.parametrize("column", ["class", "1", "-7"])
def test_cli_label_column(run, tmp_path, blocks, column):
    X, y = blocks
    table = np.hstack([y[:, None], X])
    np.savetxt(tmp_path / "X.csv", table, delimiter=",", fmt="%.17g",
               header="class,a,b,c,d,e,f", comments="")
    code, out, err = run("X.csv", "--label-column", column)
    assert code == 0, err
    assert "X.csv: 60 samples x 6 features, 3 classes" in out
    assert _scores(out)["NMF"] == (1.0, 1.0)


@pytest.mark.parametrize(
    "data, column, message",
    [
        ("X.csv", "klass", "'X.csv' has no column named 'klass'; its columns are 'class', 'a'"),
        ("X.csv", "8", "column 8 is out of range: 'X.csv' has 7 columns"),
        ("X.csv", "0", "column 0 is out of range"),
        ("X.npy", "1", "--label-column applies to .csv data"),
    ],
)
def test_cli_bad_label_column(run, tmp_path, blocks, data, column, message):
    X, y = blocks
    np.savetxt(tmp_path / "X.csv", np.hstack([y[:, None], X]), delimiter=",",
               header="class,a,b,c,d,e,f", comments="")
    np.save(tmp_path / "X.npy", X)
    code, _, err = run(data, "--label-column", column)
    assert code == 2 and message in err


def test_cli_version(capsys):
    with pytest.raises(SystemExit) as exc_info:
        main(["--version"])
    assert exc_info.value.code == 0
    assert capsys.readouterr().out == f"sknmfcluster {sknmfcluster.__version__}\n"


def test_cli_mnist_fallback_is_on_the_first_line(run, monkeypatch):
    monkeypatch.setattr(datasets, "fetch_openml", _offline)
    code, out, _ = run("mnist", "--method", "nmf", "--max-iter", "5", "--no-kmeans")
    assert code == 0 and out.splitlines()[0].startswith("digits: ")


def test_cli_mnist_no_fallback(run, tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "fetch_openml", _offline)
    _forbid_fit(monkeypatch)
    code, out, err = run("mnist", "--no-fallback")
    assert code == 2 and out == ""
    assert ("error: MNIST could not be downloaded (OSError: network is "
            "unreachable) and --no-fallback is set") in err
    assert not (tmp_path / "labels.npy").exists()


def _cluster_options():
    """Every option of ``sknmfcluster cluster``, from its parser."""
    parser = _cli._build_parser()
    commands = next(action for action in parser._actions
                    if isinstance(action, argparse._SubParsersAction))
    return [option for action in commands.choices["cluster"]._actions
            for option in action.option_strings if option.startswith("--")]


def test_python_m_help_lists_every_option():
    options = _cluster_options()
    assert {"--labels", "--label-column", "--graph-strength", "--assign-labels",
            "--no-fallback"} <= set(options)
    result = subprocess.run(
        [sys.executable, "-m", "sknmfcluster", "cluster", "--help"],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: sknmfcluster cluster")
    for option in options:
        assert option in result.stdout, option


def test_readme_usage_lists_every_option():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    usage = readme.split("## The command line", 1)[1].split("```", 2)[1]
    for option in _cluster_options() + ["--version"]:
        assert option in usage or option == "--help", option


def test_cli_method_nmf_fits_missing_values(run, tmp_path, blocks):
    X, y = blocks
    X = X.copy()
    X[::7, 1] = np.nan
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    code, out, err = run("X.npy", "--method", "nmf", "--n-clusters", "3",
                         "--labels", "y.npy")
    assert code == 0, err
    assert "KMeans cannot fit missing values" in err
    assert _scores(out)["NMF"][0] > 0.9
    code, _, err = run("X.npy", "--n-clusters", "3")  # the graph method
    assert code == 2 and "--method nmf" in err


# -- issue 12: --n-clusters auto ----------------------------------------------
@pytest.fixture
def planted():
    """Three overlapping groups of 30 samples on 24 features: rank 3."""
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(3), 30)
    parts = rng.random((3, 24)) * (rng.random((3, 24)) < 0.4)
    parts[np.arange(3), np.arange(3)] += 1.0
    W = 0.2 * rng.random((90, 3))
    W[np.arange(90), y] += 1.0
    X = W @ parts + 0.02 * rng.random((90, 24))
    return X, y


def _survey_rows(out):
    """{rank: fields} of the survey table printed on stdout."""
    rows, inside = {}, False
    for line in out.splitlines():
        if line.startswith("rank  held-out score"):
            inside = True
        elif inside and re.match(r"^ *\d+  ", line):
            fields = line.split()
            rows[int(fields[0])] = fields[1:]
        elif inside:
            break
    return rows


@pytest.mark.filterwarnings("ignore:rank 6")  # empty clusters at rank 6
def test_cli_auto_chooses_the_planted_rank(run, tmp_path, planted):
    X, y = planted
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    code, out, err = run("X.npy", "--labels", "y.npy", "--n-clusters", "auto",
                         "--ranks", "2:6", "--consensus-runs", "3", "--no-kmeans")
    assert code == 0, err
    rows = _survey_rows(out)
    assert sorted(rows) == [2, 3, 4, 5, 6]
    assert [rank for rank, fields in rows.items() if "chosen" in fields] == [3]
    assert "Chosen rank 3: the best mean held-out score" in out
    assert "over ranks 2 to 6: held-out score on 5 sample splits, consensus of " \
           "3 restarts per rank" in out
    assert "At rank 3 the restarts agree" in out
    assert "6 fits" not in out and "45 fits in " in out  # 5 ranks x (5 + 1 + 3)
    # the printed numbers are rank_survey's, with the same seed and settings
    from sknmfcluster.model_selection import rank_survey
    survey = rank_survey(_cli._survey_model(_cli._build_parser().parse_args(
        ["cluster", "X.npy"])), X, range(2, 7), cv=5, n_runs=3, random_state=0)
    for i, rank in enumerate(range(2, 7)):
        assert float(rows[rank][0]) == pytest.approx(
            survey.table["cv_score_mean"][i], rel=1e-5)
        assert float(rows[rank][4]) == pytest.approx(
            survey.table["pac"][i], abs=1e-4)
    # then clusters with the chosen rank and the default method
    assert "NMFClusterer(n_clusters=3, method='symmetric')" in out
    assert _scores(out)["NMF"][0] == 1.0
    assert np.load(tmp_path / "labels.npy").shape == (90,)
    # progress: the survey and one line per rank, not every fit's phases
    assert "sknmfcluster: rank survey: 5 ranks x 9 fits" in err
    for rank in range(2, 7):
        assert f"sknmfcluster: rank {rank}: held-out score" in err
    assert "fitting 'nmf'" not in err
    assert "sknmfcluster:" not in out


def test_cli_auto_caps_the_default_ranks_to_the_data(run, tmp_path, blocks):
    np.save(tmp_path / "X.npy", blocks[0])
    code, out, err = run("X.npy", "--n-clusters", "auto", "--method", "nmf",
                         "--consensus-runs", "0")
    assert code == 0, err
    assert ("over ranks 2, 3; the default 2:20 stops at 3, half the 6 features: "
            "the held-out score solves each sample's codes from half of its "
            "features") in out
    rows = _survey_rows(out)
    assert sorted(rows) == [2, 3] and rows[3][-1] == "chosen"
    assert rows[2][2:5] == ["-", "-", "-"]  # no restarts, no consensus
    assert "restarts agree" not in out
    assert "Rank 3 is the largest surveyed: a larger rank may score better" in out
    assert "NMFClusterer(n_clusters=3, method='nmf')" in out


def test_cli_auto_saves_the_survey_plot(run, tmp_path, planted):
    np.save(tmp_path / "X.npy", planted[0])
    code, out, err = run("X.npy", "--n-clusters", "auto", "--ranks", "2,3,5",
                         "--consensus-runs", "2", "--survey-plot", "survey.png",
                         "--output", "labels.csv")
    assert code == 0, err
    assert "over ranks 2, 3, 5:" in out
    assert (tmp_path / "survey.png").read_bytes()[:8] == PNG_SIGNATURE
    assert "Survey plot written to survey.png" in out
    assert "Labels written to labels.csv" in out
    assert "sknmfcluster: writing labels.csv, survey.png: done in" in err


def test_cli_auto_with_parallel_fits_gives_the_same_survey(run, tmp_path,
                                                           planted):
    np.save(tmp_path / "X.npy", planted[0])
    argv = ("X.npy", "--n-clusters", "auto", "--ranks", "2:4",
            "--consensus-runs", "2", "--method", "nmf")
    code, one, err = run(*argv)
    assert code == 0, err
    code, two, err = run(*argv, "--n-jobs", "2")
    assert code == 0, err
    one, two = _survey_rows(one), _survey_rows(two)
    assert sorted(one) == sorted(two) == [2, 3, 4]
    for rank in one:  # every criterion alike; only the fit times differ
        assert one[rank][:6] == two[rank][:6]


def test_cli_auto_summarises_the_warnings_of_the_fits(run, tmp_path, planted):
    np.save(tmp_path / "X.npy", planted[0])
    code, _, err = run("X.npy", "--n-clusters", "auto", "--ranks", "2:4",
                       "--consensus-runs", "2", "--method", "nmf",
                       "--max-iter", "2")
    assert code == 0, err
    lines = [line for line in err.splitlines() if "--max-iter" in line]
    assert lines[0] == ("warning: some survey fits stopped at --max-iter before "
                        "converging: rank 2 (8 of 8 fits), rank 3 (8 of 8 fits), "
                        "rank 4 (8 of 8 fits); raise --max-iter or --tol.")
    # and one line for the final fit
    assert lines[1] == ("warning: NMF stopped at --max-iter before converging; "
                        "raise --max-iter or --tol.")
    assert len(lines) == 2


def test_cli_auto_fits_missing_values_with_method_nmf(run, tmp_path, planted):
    X, y = planted
    X = X.copy()
    X[::9, 4] = np.nan
    np.save(tmp_path / "X.npy", X)
    code, out, err = run("X.npy", "--n-clusters", "auto", "--ranks", "2:5",
                         "--consensus-runs", "2", "--method", "nmf")
    assert code == 0, err
    assert "Chosen rank 3:" in out


@pytest.mark.parametrize("ranks, message", [
    ("20:2", "'20:2' is empty: LO (20) is above HI (2)"),
    ("2-20", "expected LO:HI (both included, e.g. 2:20), LO:HI:STEP or a "
             "comma-separated list such as 3,5,8; got '2-20'"),
    ("a:b", "got 'a:b'"),
    ("2:", "got '2:'"),
    ("2:10:3:1", "got '2:10:3:1'"),
    ("2:10:0", "the step of '2:10:0' must be at least 1"),
    ("0:5", "ranks must be at least 1, got 0 in '0:5'"),
    ("4", "'4' gives one rank, 4: give at least two to choose from, or "
          "--n-clusters 4"),
    ("3,3", "'3,3' gives one rank, 3"),
    ("3,x", "got '3,x'"),
])
def test_cli_rejects_bad_ranks(run, capsys, ranks, message):
    with pytest.raises(SystemExit) as exc_info:
        run("digits", "--n-clusters", "auto", "--ranks", ranks)
    assert exc_info.value.code == 2
    err = capsys.readouterr().err
    assert "sknmfcluster cluster: error: argument --ranks: " in err
    assert message in err, err


@pytest.mark.parametrize("text", ["0", "automatic", "2.5"])
def test_cli_rejects_a_bad_n_clusters(run, capsys, text):
    with pytest.raises(SystemExit) as exc_info:
        run("digits", "--n-clusters", text)
    assert exc_info.value.code == 2
    assert (f"argument --n-clusters: expected a positive integer or auto, got "
            f"{text!r}") in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--ranks", "2:40"], "error: --ranks goes up to 40, but ranks above 12 "
                          "cannot be scored on this data (half the 24 features"),
    (["--beta-loss", "itakura-saito"], "error: --n-clusters auto scores the "
                                       "ranks with --beta-loss frobenius or "
                                       "kullback-leibler, not 'itakura-saito'"),
    (["--survey-plot", "survey.txt"], "error: --survey-plot must end in .png, "
                                      ".pdf, .svg, .jpg or .jpeg"),
    (["--survey-plot", "no/such/dir/s.png"], "error: --survey-plot: directory "
                                             "'no/such/dir' does not exist"),
    (["--survey-plot", "s.png", "--components-image", "s.png"],
     "error: --components-image and --survey-plot are the same file"),
])
def test_cli_auto_errors_before_any_fit(run, tmp_path, monkeypatch, planted,
                                        argv, message):
    np.save(tmp_path / "X.npy", planted[0] + 0.1)
    _forbid_fit(monkeypatch)
    code, _, err = run("X.npy", "--n-clusters", "auto", *argv)
    assert code == 2
    assert _error(err).startswith(message), err
    assert "rank survey" not in err
    assert not (tmp_path / "labels.npy").exists()


@pytest.mark.parametrize("option", [["--ranks", "2:5"], ["--survey-plot", "s.png"],
                                    ["--consensus-runs", "3"], ["--n-jobs", "2"]])
def test_cli_survey_options_need_auto(run, monkeypatch, option):
    _forbid_fit(monkeypatch)
    code, _, err = run("digits", "--n-clusters", "5", *option)
    assert code == 2
    assert _error(err) == (f"error: {option[0]} is for choosing the number of "
                           "clusters: add --n-clusters auto, or leave out "
                           f"{option[0]}.")


def test_cli_auto_needs_enough_data(run, tmp_path, monkeypatch):
    np.save(tmp_path / "X.npy", np.random.default_rng(0).random((8, 3)))
    _forbid_fit(monkeypatch)
    code, _, err = run("X.npy", "--n-clusters", "auto", "--method", "nmf")
    assert code == 2
    assert _error(err) == (
        "error: --n-clusters auto needs at least 10 samples and 4 features to "
        "survey ranks from 2 (the data has 8 samples and 3 features); give "
        "--n-clusters K.")
