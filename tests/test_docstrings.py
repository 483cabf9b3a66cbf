"""The examples in the public docstrings run and print what they show."""

import doctest
import importlib

import pytest

import sknmfcluster

#: The modules that define the package's public names, and its public modules.
PUBLIC_MODULES = sorted(
    {module for module in (getattr(getattr(sknmfcluster, name), "__module__",
                                   "") for name in sknmfcluster.__all__)
     if module.startswith("sknmfcluster")}
    | {"sknmfcluster.datasets", "sknmfcluster.metrics"})


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no docstring example"
    assert result.failed == 0
