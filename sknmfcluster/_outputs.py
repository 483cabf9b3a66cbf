"""Outputs of the command line: checked before any work, written whole or not at all.

:func:`check_paths` runs before the data is loaded, so that a bad output
path costs no fit; :func:`write_all` writes every output to a temporary file
beside it and moves them all into place only when every one is complete, so
that nothing the user passed, and no earlier output, is left half-written.
The renderers (:func:`labels_bytes`, :func:`image_bytes`) return the bytes
of a file, which lets the writer check that all of them reached the disk.
"""

import contextlib
import io
import math
import os
import stat
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

#: File extensions each output option accepts.
FORMATS = {"--output": (".npy", ".csv"),
           "--components-image": (".png", ".pdf", ".svg", ".jpg", ".jpeg"),
           "--survey-plot": (".png", ".pdf", ".svg", ".jpg", ".jpeg")}


class Output(NamedTuple):
    """An output file of the command line."""

    option: str
    path: Path  # as given, for messages
    target: Path  # where to write: symbolic links are followed, and kept


def check_paths(given, inputs):
    """The outputs, each checked writable before any work is done.

    Parameters
    ----------
    given : list of (str, str or None)
        ``(option, path)`` of each output option, in order; a path of None
        means the option was not given.
    inputs : list of str
        Paths of the input files, which are never overwritten.

    Returns
    -------
    outputs : list of Output
        The outputs that were given, in the order of ``given``.

    Raises
    ------
    ValueError
        If a path has the wrong extension, is an input, is a directory, lies
        in a directory that does not exist or cannot be written to, or two
        outputs are the same file.
    """
    outputs = []
    for option, path in ((option, Path(path)) for option, path in given if path):
        if path.suffix.lower() not in FORMATS[option]:
            raise ValueError(
                f"{option} must end in {', '.join(FORMATS[option][:-1])} or "
                f"{FORMATS[option][-1]}, got {str(path)!r}.")
        if any(_same_file(path, Path(source)) for source in inputs):
            raise ValueError(
                f"{option} {str(path)!r} is an input file; choose another path "
                "(inputs are never overwritten).")
        outputs.append(Output(option, path, Path(os.path.realpath(path))))
        _check_writable(outputs[-1])
    for i, first in enumerate(outputs):
        for second in outputs[i + 1:]:
            if _same_file(first.target, second.target):
                raise ValueError(
                    f"{first.option} and {second.option} are the same file.")
    return outputs


def _same_file(a, b):
    """Whether ``a`` and ``b`` are one file, also when one does not exist yet."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet
        return Path(os.path.realpath(a)) == Path(os.path.realpath(b))


def _check_writable(output):
    """Create and remove a file beside the output: a failure costs no fit."""
    option, path, target = output
    if target.is_dir():
        raise ValueError(f"{option} {str(path)!r} is a directory; give a file path.")
    directory = target.parent
    if not directory.exists():
        raise ValueError(
            f"{option}: directory {str(path.parent)!r} does not exist.")
    if not directory.is_dir():
        raise ValueError(f"{option}: {str(path.parent)!r} is not a directory.")
    try:
        handle, probe = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.",
                                         suffix=".tmp")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise ValueError(
            f"{option}: cannot create a file in directory {str(path.parent)!r}: "
            f"{exc.strerror or exc}; choose a directory you can write to."
        ) from None


def write_all(outputs):
    """Write every output whole, or none of them.

    ``outputs`` holds ``(output, render)`` pairs; ``render(output.path)``
    returns the file's bytes. Every output is rendered in
    memory, written to a temporary file in its directory, flushed to disk
    and checked, and only then are all moved into place with
    :func:`os.replace` (atomic on one file system). On any failure the
    temporary files are removed and the outputs already moved, if any, too.
    """
    temporary, moved = [], []
    try:
        for output, render in outputs:
            try:
                temporary.append((_write_temporary(output.target,
                                                   render(output.path)),
                                  output.target))
            except OSError as exc:
                raise ValueError(
                    f"{output.option}: cannot write {str(output.path)!r}: "
                    f"{exc.strerror or exc}; no output was written.") from None
        for temp, target in temporary:
            os.replace(temp, target)
            moved.append(target)
    except BaseException:
        for leftover in [temp for temp, _ in temporary] + moved:
            with contextlib.suppress(OSError):
                os.unlink(leftover)
        raise


def _write_temporary(target, content):
    """Write ``content`` to a new temporary file beside ``target``; its path."""
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                    suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        if os.stat(temp).st_size != len(content):
            raise OSError(f"only part of the {len(content)} bytes was written")
        os.chmod(temp, _new_file_mode(target))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return temp


def _new_file_mode(target):
    """The mode ``target`` has, or the one a new file gets (0o666 less umask)."""
    with contextlib.suppress(OSError):
        return stat.S_IMODE(os.stat(target).st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def labels_bytes(path, labels):
    """The labels as the bytes of a ``.csv`` (with a header) or ``.npy`` file."""
    stream = io.BytesIO()
    if path.suffix.lower() == ".csv":
        np.savetxt(stream, labels, fmt="%d", header="label", comments="")
    else:
        np.save(stream, labels)
    return stream.getvalue()


def components_image_shape(image_shape, n_features):
    """Shape to draw one component as an image, or a ValueError saying why not.

    Called before the fit, so that an image that cannot be drawn costs no fit.
    """
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


def image_bytes(path, components, image_shape):
    """The components drawn as a grid of images, in the format of ``path``."""
    stream = io.BytesIO()
    _save_components_image(stream, path.suffix.lower().lstrip("."), components,
                           image_shape)
    return stream.getvalue()


def survey_plot_bytes(path, survey):
    """The rank survey drawn as a figure, in the format of ``path`` (Agg)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .model_selection import _draw_rank_survey, _panel_columns

    rows = -(-len(_panel_columns(survey, None)) // 3)
    figure = Figure(figsize=(10.8, 3.0 * rows))
    FigureCanvasAgg(figure)
    _draw_rank_survey(figure, survey)
    stream = io.BytesIO()
    figure.savefig(stream, format=path.suffix.lower().lstrip("."))
    return stream.getvalue()


def _save_components_image(stream, fmt, components, image_shape):
    """Draw the rows of ``components`` as a grid of images (Agg, no display)."""
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
    figure.savefig(stream, format=fmt)
