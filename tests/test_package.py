"""Packaging promises: import cost, public names, console script."""

import subprocess
import sys

import nengo_lmu


def test_import_does_not_import_tensorflow():
    code = (
        "import sys, nengo_lmu, nengo_lmu.networks, nengo_lmu.analysis; "
        "print('tensorflow' in sys.modules, 'nengo_dl' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "False"]


def test_public_names():
    for name in [
        "LegendreMemory",
        "LMUMemory",
        "legendre_readout",
        "window_readout",
        "lmu_matrices",
        "discretize",
        "realize",
        "mapping",
        "networks",
    ]:
        assert hasattr(nengo_lmu, name), name
    assert nengo_lmu.__version__


def test_docstring_examples_run():
    """The docstring examples of the pure-mathematics modules are doctests."""
    import doctest

    import numpy as np

    from nengo_lmu import mapping, systems

    for module in (systems, mapping):
        result = doctest.testmod(module, extraglobs={"np": np}, optionflags=doctest.ELLIPSIS)
        assert result.attempted > 0 and result.failed == 0, (module.__name__, result)
