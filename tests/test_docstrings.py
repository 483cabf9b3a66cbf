"""The examples in the public docstrings run and print what they show."""

import doctest
import importlib

import pytest

PUBLIC_MODULES = [
    "sknmfcluster._clusterer",
    "sknmfcluster._sparse_nmf",
    "sknmfcluster.metrics",
    "sknmfcluster.datasets",
    "sknmfcluster.model_selection",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no docstring example"
    assert result.failed == 0
