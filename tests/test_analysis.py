"""Scaling analysis: fits, resumable sweeps, workers, Dask, the command line."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from nengo_lmu import analysis
from nengo_lmu.cli import main


def test_fit_recovers_known_slope():
    """Synthetic errors c * m^-0.5 with 10 % multiplicative noise: the fitted slope
    is -0.5 within the noise, and its 95 % interval contains -0.5."""
    rng = np.random.RandomState(0)
    ms, errors = [], []
    for m in [100, 300, 1000, 3000, 10000]:
        for _ in range(8):
            ms.append(m)
            errors.append(3.0 / np.sqrt(m) * np.exp(0.1 * rng.standard_normal()))
    slope, low, high = analysis.fit_scaling(ms, errors)
    assert abs(slope + 0.5) < 0.03
    assert low < -0.5 < high
    assert high - low < 0.1
    # a flat (plateaued) error has slope ~0
    flat = analysis.fit_scaling([100, 1000, 10000], [0.1, 0.1, 0.1])
    assert abs(flat[0]) < 1e-9


def test_feedforward_matches_paper_scale():
    """The paper's 1-D Poisson ensemble: error falls with m (its figure follows
    5/sqrt(m) in RMSE). 100 -> 1000 neurons should cut it by ~3.2; assert 2."""
    small = np.mean([analysis.measure_feedforward(100, seed=s)["rmse"] for s in (0, 1)])
    large = np.mean(
        [analysis.measure_feedforward(1000, seed=s)["rmse"] for s in (0, 1)]
    )
    assert large < small / 2, (small, large)
    # same order of magnitude as the paper's reference line 5/sqrt(m)
    assert 0.2 * 5 / np.sqrt(1000) < large < 5 * 5 / np.sqrt(1000)


def test_feedforward_subpopulations_agree_with_ensemble():
    """Sub-population decoding (linear in m) gives the same error as Nengo's
    single solve within seed noise (Poisson noise dominates)."""
    e = [
        analysis.measure_feedforward(1500, seed=s, layout="ensemble")["rmse"]
        for s in range(3)
    ]
    p = [
        analysis.measure_feedforward(1500, seed=s, layout="subpopulations")["rmse"]
        for s in range(3)
    ]
    assert abs(np.mean(e) - np.mean(p)) < 0.25 * np.mean(e), (e, p)


def small_grid():
    return analysis.make_grid(
        "lmu",
        orders=(2,),
        neurons=(100, 200),
        neuron_types=("poisson",),
        seeds=2,
        theta=0.2,
        duration=0.5,
    )


def test_sweep_resumes_and_is_deterministic(tmp_path):
    runs = small_grid()
    path = str(tmp_path / "scaling.csv")
    # an interrupted sweep: only the first two runs finished
    first = analysis.run_sweep(runs[:2], path, progress=False)
    assert len(first) == 2
    mtime_rows = analysis.read_results(path)
    rows = analysis.run_sweep(runs, path, progress=False)
    assert len(rows) == len(runs) == 4
    # the two finished rows were kept, not recomputed (same build times)
    again = analysis.read_results(path)
    assert again[:2] == mtime_rows
    # running it once more repeats nothing
    analysis.run_sweep(runs, path, progress=False)
    assert len(analysis.read_results(path)) == 4
    # same seeds, same numbers: recompute one run from scratch
    fresh = analysis.run_one(runs[3])
    stored = [
        r for r in rows if analysis.sweeps._key(r) == analysis.sweeps._key(runs[3])
    ][0]
    assert fresh["nrmse"] == pytest.approx(stored["nrmse"], rel=1e-12)


def assert_same_results(a, b):
    """Same runs, same numbers: equal to round-off (a worker's BLAS may use another
    number of threads, so sums can be ordered differently: 1e-15 relative seen)."""
    key = analysis.sweeps._key
    a = {key(r): r["nrmse"] for r in a}
    b = {key(r): r["nrmse"] for r in b}
    assert a.keys() == b.keys()
    for k, value in a.items():
        assert b[k] == pytest.approx(value, rel=1e-9, abs=0)


def test_worker_processes_match_serial(tmp_path):
    runs = small_grid()
    serial = analysis.run_sweep(runs, str(tmp_path / "a.csv"), progress=False)
    parallel = analysis.run_sweep(
        runs, str(tmp_path / "b.csv"), workers=2, progress=False
    )
    assert_same_results(serial, parallel)


def test_dask_cluster_matches_serial(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    runs = small_grid()[:2]
    serial = analysis.run_sweep(runs, str(tmp_path / "a.csv"), progress=False)
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
        processes=True,
    ) as cluster:
        rows = analysis.run_sweep(
            runs,
            str(tmp_path / "b.csv"),
            scheduler=cluster.scheduler_address,
            progress=False,
        )
    assert_same_results(serial, rows)


def test_cli_small_run(tmp_path, capsys):
    out = tmp_path / "out"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(
            [
                "scaling",
                "--orders",
                "1,2",
                "--neurons",
                "100,300",
                "--neuron-types",
                "poisson",
                "--seeds",
                "2",
                "--theta",
                "0.2",
                "--duration",
                "0.5",
                "--workers",
                "1",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
    assert code == 0
    # Nengo's optimizer warns when it merges two Poisson ensembles' operators
    # (here: the memory's sub-ensembles); the sweep silences exactly that warning.
    assert not [w for w in caught if analysis.POISSON_MERGE_WARNING in str(w.message)]
    rows = analysis.read_results(str(out / "scaling.csv"))
    assert len(rows) == 8
    for column in [
        "order",
        "n_neurons",
        "neuron_type",
        "seed",
        "nrmse",
        "rmse",
        "build_s",
        "run_s",
    ]:
        assert column in rows[0]
    assert (out / "scaling.png").stat().st_size > 10000
    text = capsys.readouterr().out
    assert "slope" in text and "poisson" in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--orders", "0"], "--orders: must be a positive integer"),
        (["--neurons", "100,abc"], "--neurons: must be a positive integer"),
        (["--neuron-types", "lif,hh"], "--neuron-types: unknown 'hh'"),
        (["--theta", "-1"], "--theta: must be a finite number > 0"),
        (["--experiment", "delay"], "--experiment: invalid choice"),
        (["--preset", "nature"], "--preset: invalid choice"),
        (["--scheduler", "localhost:8786"], "--scheduler: must be a Dask"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_cli_rejects_bad_options_before_work(tmp_path, argv, message):
    out = tmp_path / "never"
    proc = subprocess.run(
        [sys.executable, "-m", "nengo_lmu.cli", "scaling", "--out", str(out)] + argv,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not os.path.exists(out)


def test_scaling_figure_one_panel_per_neuron_type(tmp_path):
    """Synthetic sweeps with known slopes: Poisson errors 0.05 d / sqrt(m) (slope
    -0.5), regular LIF errors flat (slope 0), each with 5 % seed-to-seed noise.
    The figure has one panel per neuron type and its legend gives each curve's
    fitted slope: -0.50 and 0.00 to the printed two decimals (the noise moves the
    fitted slope by under 0.005 here)."""
    rng = np.random.RandomState(0)
    rows = []
    for neuron_type, slope in (("lif", 0.0), ("poisson", -0.5)):
        for order in (1, 4):
            for m in (300, 1000, 3000, 10000):
                for seed in range(3):
                    error = 0.05 * order * (m / 300.0) ** slope
                    error *= 1 + 0.05 * (seed - 1) + 0.001 * rng.randn()
                    rows.append(
                        dict(
                            experiment="lmu",
                            neuron_type=neuron_type,
                            order=order,
                            n_neurons=m,
                            seed=seed,
                            nrmse=error,
                            rmse=error,
                        )
                    )
    panels = analysis.plot_scaling(rows, str(tmp_path / "figure"))
    assert list(panels) == ["regular-spiking LIF", "Poisson-spiking LIF"]
    assert panels["Poisson-spiking LIF"] == ["d = 1: slope -0.50", "d = 4: slope -0.50"]
    assert panels["regular-spiking LIF"] in (
        ["d = 1: slope 0.00", "d = 4: slope 0.00"],
        ["d = 1: slope -0.00", "d = 4: slope -0.00"],
    )
    assert (tmp_path / "figure.png").stat().st_size > 10000
