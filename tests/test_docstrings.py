"""The examples in the public docstrings run and print what they show."""

import doctest
import importlib
import re

import numpy as np
import pytest

import sknmfcluster

#: The modules that define the package's public names, and its public modules.
PUBLIC_MODULES = sorted(
    {module for module in (getattr(getattr(sknmfcluster, name), "__module__",
                                   "") for name in sknmfcluster.__all__)
     if module.startswith("sknmfcluster")}
    | {"sknmfcluster.datasets", "sknmfcluster.metrics",
       "sknmfcluster.model_selection"})

#: A NumPy scalar as NumPy 2 shows it: ``np.float64(1.0)``, ``np.True_``.
NUMPY_2_SCALAR = re.compile(
    r"\bnp\.(?:float|int|uint|complex)\d+\(([^()]*)\)"
    r"|\bnp\.(True|False)_\b")

#: Whether this NumPy shows scalars as plain numbers (NumPy 1: ``1.0``).
PLAIN_SCALAR_REPR = repr(np.float64(1.0)) == "1.0"


class NumpyScalarChecker(doctest.OutputChecker):
    """Compares outputs with the NumPy scalars as the running NumPy shows them.

    The docstrings show NumPy 2's scalar reprs (``np.float64(0.0)``). NumPy 1
    prints the same scalar as ``0.0``: there, and only there, the expected
    output is read with the scalars written that way. Values are compared as
    strictly as before on every NumPy version.
    """

    def check_output(self, want, got, optionflags):
        if PLAIN_SCALAR_REPR:
            want = NUMPY_2_SCALAR.sub(lambda m: m.group(1) or m.group(2), want)
        return super().check_output(want, got, optionflags)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(
        checker=NumpyScalarChecker(), verbose=False,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    for test in doctest.DocTestFinder().find(module):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0, f"{name} has no docstring example"
    assert result.failed == 0
