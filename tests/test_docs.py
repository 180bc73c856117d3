"""The documentation's Python examples run, and give what their text says."""

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


def python_blocks(path):
    """The ``.. code-block:: python`` blocks of an .rst file, dedented."""
    blocks = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.strip() != ".. code-block:: python":
            continue
        body = []
        for following in lines[i + 1 :]:
            if following.strip() and not following.startswith("   "):
                break
            body.append(following[3:])
        blocks.append("\n".join(body).strip() + "\n")
    return blocks


def test_getting_started_example(capsys):
    """The first example, simulated for 2 s instead of 10 (the window is full
    after 1 s): the spiking memory and its delay readout track the exact memory
    with NRMSE under 0.15 each (measured over 10 s: 0.045 and 0.035; over the
    shorter run, with less averaging: 0.06 and 0.05)."""
    (code,) = python_blocks(DOCS / "getting_started.rst")
    assert "sim.run(10.0)" in code
    code = code.replace("sim.run(10.0)", "sim.run(2.0)").replace(
        "nengo.Simulator(net)", "nengo.Simulator(net, progress_bar=False)"
    )
    exec(compile(code, "getting_started.rst", "exec"), {})  # noqa: S102
    printed = capsys.readouterr().out
    errors = [float(x) for x in re.findall(r"NRMSE[^:]*: ([0-9.]+)", printed)]
    assert len(errors) == 2, printed
    assert max(errors) < 0.15, printed


@pytest.mark.parametrize("path", sorted(DOCS.glob("*.rst")), ids=lambda p: p.name)
def test_python_blocks_compile(path):
    """Every Python block of every page is at least valid Python."""
    for block in python_blocks(path):
        compile(block, str(path), "exec")


# -- the results pages and the README, against the committed result files ----------

ROOT = DOCS.parent
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
# the two commands a newcomer runs on a fresh machine (.ci/run runs the second)
FRESH_COMMANDS = (
    'pip install -e ".[all]" -c constraints.txt && nengo-lmu scaling',
    'pip install -e ".[all]" -c constraints.txt && pytest -n 2',
)
# 7 to 40 hexadecimal digits, with at least one letter and one digit: a commit
# hash (a plain number such as 1000000 is not one)
COMMIT_HASH = re.compile(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}\b")
# "was X before Y": history, which belongs in CHANGES.rst
HISTORY = re.compile(r"\bwas\b[^.]{0,80}\bbefore\b")


@pytest.fixture(scope="module")
def results_pages():
    """docs/results_pages.py, imported as docs/conf.py imports it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "results_pages", DOCS / "results_pages.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(results_pages, tmp_path_factory):
    """The generated tables, as written for Sphinx: {name: text}."""
    folder = tmp_path_factory.mktemp("results")
    results_pages.write_pages(folder)
    return {
        path.name.removesuffix(".rst.txt"): path.read_text(encoding="utf-8")
        for path in sorted(folder.glob("*.rst.txt"))
    }


def table_rows(text):
    """The rows of a generated ``.. csv-table::`` as lists of cells, header first."""
    import csv

    lines = text.splitlines()
    header = next(line for line in lines if line.strip().startswith(":header:"))
    body = [line.strip() for line in lines[lines.index("") + 1 :] if line.strip()]
    rows = csv.reader(
        [header.split(":header:", 1)[1].strip()] + body, skipinitialspace=True
    )
    return [list(row) for row in rows]


def read_csv(path):
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_results_page_includes_every_generated_table(results_pages, generated):
    """results.rst includes each generated table once (but those written for the
    README only), and nothing else from generated/results/; every figure
    committed in benchmarks/results/ is shown."""
    text = (DOCS / "results.rst").read_text(encoding="utf-8")
    included = re.findall(r"\.\. include:: generated/results/(\S+)\.rst\.txt", text)
    assert len(included) == len(set(included))
    assert set(included) <= set(generated)
    assert set(generated) - set(included) <= set(results_pages.README_TABLES)
    for figure in sorted(RESULTS.glob("*/*.png")):
        assert f"../benchmarks/results/{figure.parent.name}/{figure.name}" in text


@pytest.mark.parametrize("preset", ["default", "paper", "thesis", "memory", "large"])
def test_scaling_tables_match_csv(preset, generated):
    """Each row's slope, interval, run count and errors at the largest m, recomputed
    from the CSV (nengo_lmu.analysis.fit_scaling on the raw rows), is in the
    generated table of that neuron type and order."""
    from nengo_lmu.analysis.experiments import NEURON_TYPES
    from nengo_lmu.analysis.metrics import fit_scaling

    groups = {}
    for row in read_csv(RESULTS / preset / "scaling.csv"):
        key = (row["neuron_type"], int(row["order"]))
        groups.setdefault(key, []).append(row)
    header, *rows = table_rows(generated[f"scaling-{preset}"])
    cells = {(r[0], int(r[1])): r for r in rows}
    assert len(cells) == len(groups)
    for (name, order), runs in groups.items():
        m = np.array([int(r["n_neurons"]) for r in runs])
        nrmse = np.array([float(r["nrmse"]) for r in runs])
        rmse = np.array([float(r["rmse"]) for r in runs])
        slope, low, high = fit_scaling(m, nrmse)
        top = m == m.max()
        expected = [
            f"{slope:.3f}",
            f"[{low:.3f}, {high:.3f}]",
            str(len(runs)),
            f"{nrmse[top].mean():.4f}",
            f"{rmse[top].mean() * np.sqrt(m.max()):.2f}",
        ]
        row = cells[(NEURON_TYPES[name][1], order)]
        if "largest m" in header:  # the largest m differs between rows
            at = header.index("largest m")
            assert row[at] == f"{m.max():,}"
            row = row[:at] + row[at + 1 :]
        else:
            assert f"{m.max():,}" in header[-1]
        assert row[2:] == expected, (name, order)
        slopes = generated.get(f"scaling-{preset}-slopes")
        if slopes:
            assert f"{slope:.3f} [{low:.3f}, {high:.3f}]" in slopes


def test_fast_step_table_matches_json(generated):
    results = json.loads((RESULTS / "fast_step" / "results.json").read_text())
    by = {(r["kind"], r["n_neurons"]): r for r in results}
    _, *rows = table_rows(generated["fast-step"])
    neurons = sorted({r["n_neurons"] for r in results})
    assert [row[0] for row in rows] == [f"{m:,}" for m in neurons]
    for row, m in zip(rows, neurons):
        ours, bound, brian = by["ours", m], by["bound", m], by["brian2", m]
        assert row[1:] == [
            f"{ours['build_s']:.2f}",
            f"{ours['run_s']:.3g}",
            f"{ours['peak_gb']:.2f}",
            f"{by['nengo-ops', m]['run_s']:.3g}",
            f"{bound['run_s']:.3g}",
            f"{brian['build_s']:.2f} / {brian['run_s']:.3g}",
            f"{ours['run_s'] / bound['run_s']:.3g}x",
            f"{brian['run_s'] / ours['run_s']:.1f}x",
        ]


def test_loihi_tables_match_files(generated):
    """The means per m are those of the per-trial CSV (recomputed), the intervals
    and slopes those of scaling.json."""
    summary = json.loads((RESULTS / "loihi" / "scaling.json").read_text())
    trials = read_csv(RESULTS / "loihi" / "scaling_trials.csv")
    _, *rows = table_rows(generated["loihi-scaling"])
    assert [row[0] for row in rows] == [f"{m:,}" for m in summary["neurons"]]
    by = {(r["simulator"], r["n_neurons"]): r for r in summary["by_m"]}
    for row, m in zip(rows, summary["neurons"]):
        ours = []
        for column, simulator in ((1, "reference"), (2, "emulator")):
            mine = [
                t
                for t in trials
                if t["simulator"] == simulator and int(t["n_neurons"]) == m
            ]
            assert len(mine) == summary["trials"]
            mean = np.mean([float(t["thesis_nrmse"]) for t in mine])
            s = by[simulator, m]
            assert row[column] == (
                f"{mean:.4f} [{s['thesis_nrmse_low']:.4f}, "
                f"{s['thesis_nrmse_high']:.4f}]"
            )
            ours.append(f"{np.mean([float(t['nrmse']) for t in mine]):.3f}")
        assert row[3] == " / ".join(ours)
    _, *slopes = table_rows(generated["loihi-slopes"])
    for row, key in zip(slopes, ("reference", "emulator", "difference")):
        s = summary["slopes"][key]
        sign = "+" if key == "difference" else ""
        assert row[1:] == [
            f"{s['slope']:{sign}.3f}",
            f"[{s['low']:{sign}.3f}, {s['high']:{sign}.3f}]",
        ]


def test_psmnist_table_matches_summary_csv(generated):
    """The benchmark's own summary.csv (written by psmnist_mnist5k.py from the same
    results.json) agrees with the generated table, cell for cell."""
    _, *rows = table_rows(generated["psmnist-mnist5k"])
    summary = read_csv(RESULTS / "psmnist_mnist5k" / "summary.csv")
    assert len(rows) == len(summary)
    tasks = {"permuted": "psMNIST (permuted)", "unpermuted": "sequential MNIST"}
    for s in summary:
        (row,) = [
            r for r in rows if r[0] == tasks[s["task"]] and r[1].startswith(s["model"])
        ]
        assert row[2:] == [
            f"{s['test accuracy mean (%)']} % [{s['min (%)']}, {s['max (%)']}]",
            str(len(s["seeds"].split())),
            s["s / epoch"],
        ]


def test_spiking_table_matches_json(generated):
    results = json.loads((RESULTS / "spiking_conversion" / "results.json").read_text())
    header, *rows = table_rows(generated["spiking-conversion"])
    holds = header[1:]
    assert holds == ["10", "30", "60", "100"]
    spiking, batched = results["spiking"], results["batched"]
    expected = [
        [f"{100 * spiking[h]['accuracy']:.1f} %" for h in holds],
        [f"{100 * batched[h]['accuracy']:.1f} %" for h in holds],
        [f"{100 * batched[h]['agreement_with_rate']:.1f} %" for h in holds],
        [f"{batched[h]['logit_error']:.2f}" for h in holds],
        [f"{batched[h]['median_rate_margin_disagreeing']:.2f}" for h in holds],
    ]
    assert [row[1:] for row in rows] == expected
    rate = generated["spiking-conversion-rate"]
    assert f"{100 * results['rate_all']:.1f} %" in rate
    assert f"{100 * results['rate_nengo']:.1f} %" in rate


def test_readme(results_pages):
    """The README is short, starts a newcomer with the two commands, shows the
    headline tables exactly as generated from the result files, points at files
    that exist, and leaves history (hashes, "was ... before ...") to CHANGES.rst."""
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    for command in FRESH_COMMANDS:
        assert command in text
    assert FRESH_COMMANDS[1].split("&& ")[1] in (ROOT / ".ci" / "run").read_text()
    for name, table in results_pages.readme_tables().items():
        assert table in text, name
    for path in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert (ROOT / path).exists(), path
    assert COMMIT_HASH.findall(text) == []
    assert HISTORY.findall(text) == []


@pytest.mark.parametrize("path", sorted(DOCS.glob("*.rst")), ids=lambda p: p.name)
def test_docs_have_no_history(path):
    """Commit hashes and "was ... before ..." belong in CHANGES.rst (changes.rst
    only includes it)."""
    text = path.read_text(encoding="utf-8")
    if path.name != "changes.rst":
        assert COMMIT_HASH.findall(text) == []
        assert HISTORY.findall(text) == []


def install_lines():
    """Each ``pip install ...`` command of the README and the docs' pages."""
    found = []
    for path in [README, DOCS / "conf.py", *sorted(DOCS.glob("*.rst"))]:
        text = path.read_text(encoding="utf-8")
        for command in re.findall(r"pip install [^`\n&]*", text):
            found.append((path.name, command.strip()))
    return found


@pytest.mark.parametrize("where, command", install_lines())
def test_install_lines_work_as_written(where, command):
    """Every install line installs this clone (nengo-lmu is not on PyPI): ``-e``
    of the repository root with extras that setup.cfg declares, and constraints
    files that exist."""
    import configparser
    import shlex

    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    extras = set(config["options.extras_require"])
    words = shlex.split(command)[2:]
    assert words[0] == "-e", command
    target, _, rest = words[1].partition("[")
    assert target == ".", command
    assert set(filter(None, rest.rstrip("]").split(","))) <= extras, command
    for option, value in zip(words, words[1:]):
        if option == "-c":
            assert (ROOT / value).exists(), command


def test_built_pages_load_nothing_from_another_host(tmp_path):
    """Built without executing the notebooks (and without the API pages, whose
    template is the same), no page loads a script, stylesheet or image from
    another host, and the pages with math load the local MathJax, which is
    there. The -W build of CI checks every page the same way (conf.py's
    check_offline)."""
    import shutil
    import subprocess
    import sys

    pytest.importorskip("sphinx")
    pytest.importorskip("nbsphinx")
    if shutil.which("pandoc") is None:
        pytest.skip("nbsphinx needs pandoc: apt-get install pandoc")
    if not Path("/usr/share/javascript/mathjax/MathJax.js").exists():
        pytest.skip("the docs need a local MathJax: apt-get install libjs-mathjax")
    out = tmp_path / "html"
    subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-b", "html"]
        + ["-D", "nbsphinx_execute=never"]
        + ["-D", "exclude_patterns=api.rst,_build,generated"]
        + [str(DOCS), str(out)],
        check=True,
        env={**os.environ, "MPLBACKEND": "Agg"},
        capture_output=True,
    )
    remote = re.compile(r"""<(script|link|img)\b[^>]*\b(src|href)=["'](https?:)?//""")
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 10
    with_math = 0
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert remote.search(html) is None, (page.name, remote.search(html))
        for src in re.findall(r'<script[^>]*src="([^"]*MathJax\.js)[?"]', html):
            assert (page.parent / src).exists(), (page.name, src)
            with_math += 1
    assert with_math > 0


def test_psmnist_full_tables_match_run_files(results_pages, generated):
    """The full-MNIST tables show each committed run's history, epoch by epoch,
    and its test accuracy (results.json) or its progress (state.json)."""
    _, *epochs = table_rows(generated["psmnist-full-epochs"])
    _, *summary = table_rows(generated["psmnist-full"])
    runs = 0
    for name, (model, *_) in results_pages.PSMNIST_RUNS.items():
        run = results_pages.psmnist_run(RESULTS / "psmnist" / name)
        if run is None:
            continue
        runs += 1
        mine = [row for row in epochs if row[0] == name]
        assert [row[1] for row in mine] == [
            str(i) for i in range(1, len(run["history"]) + 1)
        ]
        for row, h in zip(mine, run["history"]):
            assert row[2] == f"{h['loss']:.4f}"
            assert row[3] == f"{100 * h['probe_accuracy']:.2f} %"
        (row,) = [row for row in summary if row[0] == model]
        if "test_accuracy" in run:
            assert row[3].startswith(f"{100 * run['test_accuracy']:.2f} %")
        else:
            assert row[3].startswith(f"training: {len(run['history'])} epoch")
    assert len(summary) == runs


def test_psmnist_spiking_table_matches_json(generated):
    path = RESULTS / "psmnist" / "spiking" / "results.json"
    if not path.exists():
        assert "Not measured yet" in generated["psmnist-spiking"]
        return
    results = json.loads(path.read_text())
    header, *rows = table_rows(generated["psmnist-spiking"])
    holds = header[1:]
    assert holds == sorted(results["holds"], key=int)
    assert rows[0][1:] == [
        f"{100 * results['holds'][h]['accuracy']:.2f} %" for h in holds
    ]
    assert rows[2][1:] == [f"{results['holds'][h]['spikes']:,.0f}" for h in holds]
    rate = generated["psmnist-spiking-rate"]
    assert f"{100 * results['rate_accuracy']:.2f} %" in rate


def test_psmnist_speed_table_matches_json(generated):
    path = RESULTS / "psmnist" / "speed.json"
    if not path.exists():
        assert "Not measured yet" in generated["psmnist-speed"]
        return
    speed = json.loads(path.read_text())["seconds_per_batch"]
    _, *rows = table_rows(generated["psmnist-speed"])
    assert [row[1] for row in rows] == [f"{v:.2f}" for v in speed.values()]
    assert [row[2] for row in rows] == [
        f"{v / speed['parallel']:.1f}" for v in speed.values()
    ]


def test_decade_slopes_of_a_known_law(results_pages):
    """On rows that follow NRMSE = c d / sqrt(m) exactly (three seeds each, one
    missing size for order 3), every local slope is -0.5 and the missing pair is
    blank."""
    rows = [
        {"order": d, "n_neurons": m, "seed": s, "nrmse": 0.3 * d / np.sqrt(m)}
        for d in (1, 3)
        for m in (1000, 10000, 100000)
        for s in range(3)
        if (d, m) != (3, 100000)
    ]
    header, *body = table_rows(results_pages.decade_slopes(rows).rst())
    assert header == ["order", "1,000 to 10,000", "10,000 to 100,000"]
    assert body == [["1", "-0.50", "-0.50"], ["3", "-0.50", ""]]


def test_large_memory_table_matches_json(generated):
    path = RESULTS / "fast_step" / "large.json"
    if not path.exists():
        assert generated["large-memory"].startswith("Not measured yet")
        return
    results = json.loads(path.read_text())
    by = {(r["kind"], r["n_neurons"]): r for r in results}
    _, *rows = table_rows(generated["large-memory"])
    for row in rows:
        m = int(row[0].replace(",", ""))
        ours, bound = by["ours", m], by["bound", m]
        f32 = by.get(("ours-f32", m))
        f32_cells = []
        if any(kind == "ours-f32" for kind, _ in by):
            f32_cells = [f"{f32['build_s']:.2f} / {f32['run_s']:.3g}" if f32 else ""]
        assert row[1:] == [
            f"{ours['build_s']:.2f}",
            f"{ours['run_s']:.3g}",
            f"{ours['peak_gb']:.2f}",
            f"{ours['bytes_per_neuron']:.0f}",
            *f32_cells,
            f"{bound['run_s']:.3g}",
            f"{ours['run_s'] / bound['run_s']:.3g}x",
        ]


def test_allocation_table_matches_csv(generated):
    """Each row's means over the seeds that ran both allocations, recomputed from
    the CSV."""
    rows = read_csv(RESULTS / "allocation" / "results.csv")
    _, *table = table_rows(generated["allocation"])
    assert table
    names = {"poisson": "Poisson-spiking LIF", "lif": "regular-spiking LIF"}
    for row in table:
        case = [
            r
            for r in rows
            if names[r["neuron_type"]] == row[0]
            and (r["realizer"], r["order"]) == (row[1], row[2])
            and int(r["n_neurons"]) == int(row[3].replace(",", ""))
        ]
        seeds = {r["seed"] for r in case if r["allocation"] == "uniform"} & {
            r["seed"] for r in case if r["allocation"] == "readout"
        }
        assert row[4] == str(len(seeds))
        for i, column in enumerate(("delay_nrmse", "readout_nrmse", "memory_nrmse")):
            uniform, readout = (
                np.mean(
                    [
                        float(r[column])
                        for r in case
                        if r["allocation"] == a and r["seed"] in seeds
                    ]
                )
                for a in ("uniform", "readout")
            )
            assert row[5 + 3 * i : 8 + 3 * i] == [
                f"{uniform:.4f}",
                f"{readout:.4f}",
                f"{readout / uniform:.2f}",
            ]


def test_precision_table_matches_json(generated):
    results = json.loads((RESULTS / "large" / "precision.json").read_text())
    header, *rows = table_rows(generated["scaling-large-precision"])
    assert len(rows) == len(results)
    for row, r in zip(rows, results):
        assert row[:3] == [str(r["order"]), f"{r['n_neurons']:,}", f"{r['nrmse']:.4f}"]
        for w in r["windows"]:
            cell = row[header.index(f"T = {w['window_s']:g} s")]
            spreads = f"{w['relative_spread']:.2f} / {w['relative_spread_rmse']:.2f}"
            assert cell == spreads


def test_per_state_errors_add_up_to_the_memory_error():
    """``allocation/per_state.json``: the states' errors, weighted by their power,
    give the whole memory's NRMSE (``nrmse^2 = sum(e_i^2 r_i^2) / sum(r_i^2)``),
    to 1e-9; both allocations ran with the same seeds and neurons."""
    runs = json.loads((RESULTS / "allocation" / "per_state.json").read_text())
    for r in runs:
        e, rms = np.array(r["state_nrmse"]), np.array(r["state_rms"])
        combined = np.sqrt(np.sum(e**2 * rms**2) / np.sum(rms**2))
        assert abs(combined - r["memory_nrmse"]) <= 1e-9 * r["memory_nrmse"]
        counts = [int(c) for c in r["neurons_per_state"].split()]
        assert len(counts) == r["order"] and sum(counts) == r["n_neurons"]
    by = {}
    for r in runs:
        by.setdefault((r["order"], r["n_neurons"], r["allocation"]), set()).add(
            r["seed"]
        )
    for (order, m, _), seeds in by.items():
        assert by[order, m, "uniform"] == by[order, m, "readout"] == seeds


def test_a_missing_result_file_names_its_command(results_pages, tmp_path):
    """`if_measured`: the table of a file that exists; for one that does not, the
    paragraph naming the command that writes it."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "r.json").write_text("[1, 2]")
    assert results_pages.if_measured(tmp_path, "a/r.json", sum, "python b.py") == 3
    assert results_pages.if_measured(tmp_path, "a/s.json", sum, "python b.py") == (
        "Not measured yet: ``python b.py`` writes ``a/s.json``.\n"
    )
