"""Packaging promises: import cost, public names, console script."""

import re
import subprocess
import sys
from pathlib import Path

import nengo_lmu


def test_import_does_not_import_tensorflow():
    code = (
        "import sys, nengo_lmu, nengo_lmu.networks, nengo_lmu.analysis, nengo_lmu.dl; "
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
        "LinearSystem",
        "LegendreDelay",
        "PadeDelay",
        "RollingWindow",
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

    from nengo_lmu import mapping
    from nengo_lmu.networks import memory
    from nengo_lmu.systems import delays, legendre, linear

    for module in (legendre, linear, delays, mapping, memory):
        result = doctest.testmod(
            module, extraglobs={"np": np}, optionflags=doctest.ELLIPSIS
        )
        assert result.attempted > 0 and result.failed == 0, (module.__name__, result)


def test_readme_example_runs():
    """The README's first code block, simulated for 0.2 s instead of 10 s."""
    import os
    import re

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        code = re.search(r"```python\n(.*?)```", f.read(), re.S).group(1)
    code = code.replace("sim.run(10.0)", "sim.run(0.2)").replace(
        "nengo.Simulator(net)", "nengo.Simulator(net, progress_bar=False)"
    )
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
    assert namespace["sim"].data[namespace["p"]].shape == (200, 6)


def test_classifiers_name_the_pythons_ci_tests():
    """setup.cfg's Python classifiers are exactly the versions `.ci/run`'s core
    step runs (3.11, the interpreter, plus the pyenv versions it loops over)."""
    root = Path(__file__).resolve().parents[1]
    cfg = (root / "setup.cfg").read_text()
    claimed = set(re.findall(r"Programming Language :: Python :: (3\.\d+)", cfg))
    loop = re.search(r"for v in ([\d. ]+); do", (root / ".ci" / "run").read_text())
    tested = {"3.11"} | set(loop.group(1).split())
    assert claimed == tested, (claimed, tested)
