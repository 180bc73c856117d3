"""Packaging promises: import cost, public names, console script."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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


# Global state a library must leave alone on import (STYLE.md): Nengo's rc
# settings, matplotlib's backend and the environment. MPLBACKEND=svg makes a
# switch to Agg visible; TF_CPP_MIN_LOG_LEVEL is unset so a setdefault shows.
GLOBAL_STATE = """
import json, os, sys
import matplotlib, nengo

def state():
    rc = {s: dict(nengo.rc.items(s)) for s in nengo.rc.sections()}
    return {"rc": rc, "backend": matplotlib.get_backend(), "env": dict(os.environ)}
"""


def _run_python(code, **env):
    environ = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=environ,
    ).stdout


TASK_MODULES = ("psmnist", "mackey_glass", "capacity", "spiking_digits")


def test_import_leaves_global_state_alone():
    """Importing the analysis, the tasks (every task module) and the command line
    changes neither nengo.rc, nor matplotlib's backend, nor os.environ."""
    modules = ["nengo_lmu.analysis", "nengo_lmu.tasks", "nengo_lmu.cli"] + [
        f"nengo_lmu.tasks.{name}" for name in TASK_MODULES
    ]
    code = GLOBAL_STATE + (
        "before = state()\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print(json.dumps([before, state()]))"
    )
    before, after = json.loads(_run_python(code, MPLBACKEND="svg"))
    assert before["backend"] == "svg"
    assert after == before


def test_library_calls_restore_global_state(tmp_path):
    """A sweep run in this process (one tiny feed-forward run) turns Nengo's
    decoder cache off only while it runs; the scaling figure is drawn without
    switching matplotlib's backend."""
    code = GLOBAL_STATE + (
        "from nengo_lmu import analysis\n"
        "before = state()\n"
        "runs = analysis.make_grid('feedforward', neurons=[20], "
        "neuron_types=['lif'], seeds=1, duration=0.01)\n"
        f"rows = analysis.run_sweep(runs, {str(tmp_path / 'a.csv')!r}, "
        "progress=False)\n"
        f"analysis.plot_scaling(rows, {str(tmp_path / 'a')!r})\n"
        "print(json.dumps([before, state()]))"
    )
    before, after = json.loads(_run_python(code, MPLBACKEND="svg"))
    assert after == before
    assert (tmp_path / "a.png").stat().st_size > 1000


def test_tasks_do_not_import_the_command_line():
    """The tasks take their argparse types from nengo_lmu._argtypes: importing
    them and building their parsers leaves nengo_lmu.cli unimported."""
    code = (
        "import importlib, sys\n"
        f"for name in {TASK_MODULES!r}:\n"
        "    module = importlib.import_module('nengo_lmu.tasks.' + name)\n"
        "    (getattr(module, 'build_parser', None) or module.make_parser)()\n"
        "print('nengo_lmu.cli' in sys.modules)"
    )
    assert _run_python(code).split() == ["False"]


def _options(help_text):
    """``{option: its help, on one line}`` from an argparse help text."""
    options, name = {}, None
    for line in help_text.splitlines():
        if line.startswith("  -"):
            name = line.split()[0].rstrip(",")
            options[name] = line
        elif name and line.startswith("      "):
            options[name] += " " + line.strip()
        else:
            name = None
    return {k: " ".join(v.split()) for k, v in options.items()}


# Options that default to nothing (no folder, no path, no early stopping): the
# only ones whose help may say "(default: None)".
NO_DEFAULT = {
    "psmnist": {"--data-path", "--patience", "--out", "--evaluate"},
    "mackey_glass": {"--checkpoint-dir"},
    "capacity": {"--out"},
    "spiking_digits": {"--data-path"},
}


@pytest.mark.parametrize(
    "argv", [["scaling"], ["export"], ["loihi"]] + [["train", t] for t in TASK_MODULES]
)
def test_help_shows_real_defaults(argv, capsys, monkeypatch):
    """Every ``--help`` gives an option's default where it has one: none says
    "(default: None)" but those that default to nothing."""
    from nengo_lmu.cli import main

    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as exit_info:
        main(argv + ["--help"])
    assert exit_info.value.code == 0
    options = _options(capsys.readouterr().out)
    assert options
    allowed = NO_DEFAULT.get(argv[-1], set())
    shows_none = {k for k, v in options.items() if "(default: None)" in v}
    assert shows_none <= allowed, shows_none - allowed


def test_scaling_help_shows_the_default_run(capsys, monkeypatch):
    """``nengo-lmu scaling --help`` shows the default run's settings (from
    nengo_lmu.analysis.defaults) and the feed-forward experiment's own."""
    from nengo_lmu.analysis.defaults import DEFAULT_RUN, FEEDFORWARD_TIMING
    from nengo_lmu.cli import main

    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit):
        main(["scaling", "--help"])
    options = _options(capsys.readouterr().out)
    for name, value in DEFAULT_RUN.items():
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        option = "--" + name.replace("_", "-")
        assert f"(default: {text})" in options[option], options[option]
    assert f"is {FEEDFORWARD_TIMING['dt']:g}" in options["--dt"]
    assert f"is {FEEDFORWARD_TIMING['duration']:g}" in options["--duration"]


def _import_graph(root):
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "import_graph.py"
    return subprocess.run(
        [sys.executable, str(script), "--root", str(root), "--check"],
        capture_output=True,
        text=True,
    )


def test_import_graph_has_no_cycle(tmp_path):
    """No import cycle among the package's modules, lazy and importlib imports
    included (benchmarks/import_graph.py); the check finds a planted one."""
    proc = _import_graph(Path(__file__).resolve().parents[1])
    assert proc.returncode == 0 and "0 cycle(s)" in proc.stdout, proc.stdout
    package = tmp_path / "nengo_lmu"
    package.mkdir()
    (package / "__init__.py").write_text("from nengo_lmu import a\n")
    (package / "a.py").write_text("def f():\n    from nengo_lmu.b import g\n")
    (package / "b.py").write_text(
        "import importlib\n\ndef g():\n    importlib.import_module('nengo_lmu.a')\n"
    )
    proc = _import_graph(tmp_path)
    assert proc.returncode == 1, proc.stdout
    assert "cycle: nengo_lmu.a <-> nengo_lmu.b" in proc.stdout


@pytest.mark.parametrize("level", [None, "2", "3"])
def test_quiet_tensorflow_keeps_the_users_level(level):
    """`quiet_tensorflow` (where a command starts) drops TensorFlow's C++
    start-up lines, which a process that nengo_dl starts prints at the level
    nengo_dl forces (1), whether the user set a quiet level or none; the user's
    level is put back (3 where none was set)."""
    pytest.importorskip("nengo_dl")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    if level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = level
    code = (
        "import os; from nengo_lmu._tf import quiet_tensorflow; quiet_tensorflow(); "
        "print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"
    )
    proc = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert proc.stdout.strip() == (level or "3")
    assert "tensorflow/" not in proc.stderr, proc.stderr
