"""Scaling analysis: fits, resumable sweeps, workers, Dask, the command line."""

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from nengo_lmu import analysis
from nengo_lmu.cli import main


def test_fit_recovers_known_slope():
    """Synthetic errors c * m^-0.5 with 10 % multiplicative noise, 8 runs at each
    of 5 sizes, 40 independent data sets: each fitted slope is -0.5 within 0.03
    (measured 0.017 at most), and the 95 % interval covers -0.5 in at least 34 of
    40 (85 %; measured 37: a percentile bootstrap of 8 runs per point is a little
    narrow)."""
    covered = 0
    for seed in range(40):
        rng = np.random.RandomState(seed)
        ms = np.repeat([100, 300, 1000, 3000, 10000], 8)
        errors = 3.0 / np.sqrt(ms) * np.exp(0.1 * rng.standard_normal(ms.size))
        slope, low, high = analysis.fit_scaling(ms, errors)
        assert abs(slope + 0.5) < 0.03
        assert high - low < 0.1
        covered += low < -0.5 < high
    assert covered >= 34, covered
    # a flat (plateaued) error has slope ~0
    flat = analysis.fit_scaling([100, 1000, 10000], [0.1, 0.1, 0.1])
    assert abs(flat[0]) < 1e-9


def test_intervals_do_not_depend_on_the_order_of_runs():
    """A sweep writes its runs as they finish, in an order that changes from run
    to run: the same runs in another order give the same slope interval and the
    same bootstrap interval (exactly), against a recomputation on sorted input."""
    rng = np.random.RandomState(1)
    ms = np.repeat([300, 1000, 3000, 10000], 3)
    errors = 2.0 / np.sqrt(ms) * np.exp(0.2 * rng.standard_normal(ms.size))
    shuffled = rng.permutation(ms.size)
    assert analysis.fit_scaling(ms, errors) == analysis.fit_scaling(
        ms[shuffled], errors[shuffled]
    )
    values = errors[:5]
    assert analysis.bootstrap_interval(values) == analysis.bootstrap_interval(
        values[::-1]
    )


def test_feedforward_matches_paper_scale():
    """The paper's 1-D Poisson ensemble: error falls with m (its figure follows
    5/sqrt(m) in RMSE). 100 -> 1000 neurons should cut it by ~3.2; assert 2."""
    small = np.mean([analysis.measure_feedforward(100, seed=s)["rmse"] for s in (0, 1)])
    large = np.mean(
        [analysis.measure_feedforward(1000, seed=s)["rmse"] for s in (0, 1)]
    )
    assert large < small / 2, (small, large)
    # on the paper's reference line 5/sqrt(m) (0.158 at m = 1000): seeds 0-5
    # measured 0.165-0.200 here, so the mean of two lies within a factor 1.5
    assert 1 / 1.5 < large / (5 / np.sqrt(1000)) < 1.5, large


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
        r
        for r in rows
        if analysis.sweeps.run_key(r) == analysis.sweeps.run_key(runs[3])
    ][0]
    assert fresh["nrmse"] == pytest.approx(stored["nrmse"], rel=1e-12)


def test_sweep_resumes_after_a_torn_row(tmp_path):
    """The CLI's resume with a half-written last line (``1,200,poi``, a power cut
    mid-write): the torn row is dropped with a warning naming the file and line,
    and its run is redone; the other rows are kept."""
    runs = small_grid()[:2]
    path = str(tmp_path / "scaling.csv")
    analysis.run_sweep(runs[:1], path, progress=False)
    with open(path, "a", encoding="utf-8") as f:
        f.write("lmu,2,200,poi")
    with pytest.warns(UserWarning, match=r"scaling\.csv: line 3 is a torn write"):
        rows = analysis.run_sweep(runs, path, progress=False)
    assert len(rows) == 2
    stored = analysis.read_results(path)
    assert len(stored) == 2 and all(np.isfinite(r["nrmse"]) for r in stored)
    with open(path, "a", encoding="utf-8") as f:
        f.write("lmu,2,garbage\n")
    analysis.sweeps.append_row(path, stored[0])
    with pytest.raises(ValueError, match=r"scaling\.csv: line 4 is not a complete"):
        analysis.run_sweep(runs, path, progress=False)


def assert_same_results(a, b):
    """Same runs, same numbers: equal to round-off (a worker's BLAS may use another
    number of threads, so sums can be ordered differently: 1e-15 relative seen)."""
    key = analysis.sweeps.run_key
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
    """The same numbers on a Dask cluster whose workers declare a ``memory``
    resource (each run asks for its estimate), each row with its peak memory; a
    run larger than every worker's memory limit raises before anything runs."""
    distributed = pytest.importorskip("dask.distributed")
    runs = small_grid()[:2]
    serial = analysis.run_sweep(runs, str(tmp_path / "a.csv"), progress=False)
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
        processes=True,
        memory_limit="4GB",
        resources={"memory": 4e9},
    ) as cluster:
        rows = analysis.run_sweep(
            runs,
            str(tmp_path / "b.csv"),
            scheduler=cluster.scheduler_address,
            progress=False,
        )
        huge = dict(runs[0], n_neurons=10**8)  # about 6.5 GB
        with pytest.raises(
            ValueError, match=r"n_neurons=100000000 needs about 6\.5 GB"
        ):
            analysis.run_sweep(
                [huge],
                str(tmp_path / "c.csv"),
                scheduler=cluster.scheduler_address,
                progress=False,
            )
    assert_same_results(serial, rows)
    assert all(0.1 < r["peak_gb"] < 4 for r in rows)
    assert not os.path.exists(tmp_path / "c.csv")


def test_check_worker_memory():
    run = {"order": 6, "n_neurons": 10**7}  # 0.75 + 0.58 GB
    analysis.check_worker_memory([run], [{"memory_limit": 3e9}, {"memory_limit": 0}])
    analysis.check_worker_memory([run], [{"memory_limit": 0}])  # no limits
    analysis.check_worker_memory([run], [{"memory_limit": 1e9}, {"memory_limit": 3e9}])
    with pytest.raises(ValueError, match=r"n_neurons=10000000 needs about 1\.3 GB"):
        analysis.check_worker_memory([run], [{"memory_limit": 1e9}])


def test_peak_memory_is_the_blocks_own():
    """A block's peak covers what it allocates (0.4 GB), and a later block that
    allocates less reports less: the high-water mark was reset (Linux)."""
    if not os.access("/proc/self/clear_refs", os.W_OK):
        pytest.skip("needs Linux's /proc/self/clear_refs to reset the peak")
    with analysis.peak_memory() as before:
        pass
    with analysis.peak_memory() as big:
        x = np.ones(50_000_000)
        x[::512] = 2  # touch every page
        del x
    with analysis.peak_memory() as small:
        y = np.ones(5_000_000)
        del y
    assert big["gb"] >= before["gb"] + 0.38
    assert small["gb"] < big["gb"] - 0.3


def test_peak_estimate_bounds_the_measured_peaks():
    """`estimate_peak_gb` (what Dask is told) against peaks measured by
    benchmarks/fast_step.py at 1e6-1e8 neurons and by a run here: never below a
    measurement, and at most 1.5x one above 1e7 neurons, where the bound matters
    (each in a process of its own, as the benchmark's and a sweep's runs are)."""
    from nengo_lmu._io import read_json

    path = os.path.join(
        os.path.dirname(__file__), "..", "benchmarks", "results", "fast_step"
    )
    measured = [
        (r["n_neurons"], r["peak_gb"])
        for r in read_json(os.path.join(path, "large.json"))
        if r.get("kind") == "ours" and "peak_gb" in r
    ]
    assert {m for m, _ in measured} >= {10**6, 10**7, 10**8}
    # a run in a fresh process, as a sweep's worker makes it (this process holds
    # what other tests imported)
    code = (
        "import json, sys; from nengo_lmu import analysis; "
        "row = analysis.run_one(json.loads(sys.argv[1])); "
        "print(json.dumps([row['n_neurons'], row['peak_gb']]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(small_grid()[0])],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    measured.append(tuple(json.loads(out.strip().splitlines()[-1])))
    for m, peak in measured:
        estimate = analysis.estimate_peak_gb({"n_neurons": m})
        assert estimate >= peak, (m, peak, estimate)
        if m >= 10**7:
            assert estimate <= 1.5 * peak, (m, peak, estimate)


def test_legacy_results_are_read_then_upgraded(tmp_path):
    """A results file from before runs recorded their memory: read as it is
    (peak_gb NaN), and given the column, its rows unchanged, when a sweep appends
    to it."""
    runs = small_grid()[:2]
    path = tmp_path / "scaling.csv"
    analysis.run_sweep(runs[:1], str(path), progress=False)
    lines = path.read_text(encoding="utf-8").splitlines()
    legacy = [line.rsplit(",", 1)[0] for line in lines]  # peak_gb cut off
    assert legacy[0] == ",".join(analysis.sweeps.LEGACY_COLUMNS)
    path.write_text("\n".join(legacy) + "\n", encoding="utf-8")
    (old,) = analysis.read_results(str(path))
    assert np.isnan(old["peak_gb"]) and old["nrmse"] > 0
    rows = analysis.run_sweep(runs, str(path), progress=False)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(analysis.COLUMNS)
    assert lines[1] == legacy[1] + ",nan"
    assert len(rows) == 2 and np.isfinite(rows[1]["peak_gb"])


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
        "peak_gb",
    ]:
        assert column in rows[0]
    assert (out / "scaling.png").stat().st_size > 10000
    text = capsys.readouterr().out
    assert "slope" in text and "poisson" in text
    # the table's peak memory at the largest m: the largest of its runs' peaks
    peaks = [r["peak_gb"] for r in rows if r["n_neurons"] == 300 and r["order"] == 2]
    line = [t for t in text.splitlines() if t.startswith("lmu") and " 2 " in t][0]
    assert line.split()[-1] == f"{max(peaks):.2f}"


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


# -- the delay-network protocol's two metrics (nengo_lmu.analysis.delay) ----------


def _thesis_realization(theta=0.1, order=3):
    """The thesis' system: the balanced Pade delay, states scaled by 1, 2, 3."""
    from nengo_lmu.systems import PadeDelay

    return PadeDelay(theta, order).balanced().transform(np.diag([1.0, 2.0, 3.0]))


def _white_signal(duration, seed, dt=0.001, rms=1.0):
    import nengo

    process = nengo.processes.WhiteSignal(duration, high=3.0, rms=rms, y0=0, seed=seed)
    return process.run(duration, dt=dt)


def _exact_states(realization, u, dt):
    """scipy's ZOH and dlsim: x[k] from inputs up to k - 1 (independent of
    LinearSystem.filter)."""
    import scipy.signal

    A, B = np.asarray(realization.A), np.asarray(realization.B)
    Ad, Bd, *_ = scipy.signal.cont2discrete((A, B, np.eye(len(A)), 0), dt)
    _, _, x = scipy.signal.dlsim((Ad, Bd, np.eye(len(A)), np.zeros((len(A), 1)), dt), u)
    return x


def test_thesis_metric_of_the_exact_system_is_zero():
    """A 'network' that is the exact delay system (its states from scipy's ZOH)
    scores 0 under the thesis' metric (asserted < 1e-9: only rounding), and the
    same for the LMU memory in another basis."""
    from nengo_lmu.analysis.delay import thesis_nrmse
    from nengo_lmu.systems import realize

    dt, theta = 0.001, 0.1
    u = _white_signal(2.0, seed=1)
    for realization in (_thesis_realization(), realize(4, theta, "balanced")):
        x = _exact_states(realization, u, dt)
        assert thesis_nrmse(x, u, realization, theta, dt) < 1e-9
    # and the exact state one step late is not exact (0.01-0.02 at 3 Hz)
    x = _exact_states(_thesis_realization(), u, dt)
    late = np.vstack([np.zeros((1, 3)), x[:-1]])
    assert 0.005 < thesis_nrmse(late, u, _thesis_realization(), theta, dt) < 0.05


def test_undo_readout_filter_against_scipy():
    """The readout filter undone is x_hat = h(A_H x_raw + B_H u), with the exact
    discrete mapping A_H = (Ad - a I) / (1 - a), B_H = Bd / (1 - a) (thesis eq.
    5.9) and h the 20 ms lowpass as a probe applies it: checked against scipy's
    cont2discrete and lfilter on a random x_raw (to 1e-9)."""
    import scipy.signal

    from nengo_lmu.analysis.delay import undo_readout_filter

    dt, tau = 0.001, 0.02
    realization = _thesis_realization()
    rng = np.random.RandomState(0)
    x_raw, u = rng.standard_normal((500, 3)), rng.standard_normal((500, 1))
    A, B = np.asarray(realization.A), np.asarray(realization.B)
    Ad, Bd, *_ = scipy.signal.cont2discrete((A, B, np.eye(3), 0), dt)
    a = np.exp(-dt / tau)
    A_H, B_H = (Ad - a * np.eye(3)) / (1 - a), Bd / (1 - a)
    expected = scipy.signal.lfilter([0, 1 - a], [1, -a], x_raw @ A_H.T + u @ B_H.T, 0)
    got = undo_readout_filter(x_raw, u, realization, dt, tau)
    assert np.allclose(got, expected, atol=1e-9, rtol=1e-9)


def test_thesis_metric_of_state_noise_closed_form():
    """White noise of std sigma added to the exact state: the readout filter turns
    it into sum of lowpassed A_H e, whose stationary variance per state is
    sigma^2 (1 - a) / (1 + a) (A_H A_H^T)_ii, so the expected score is
    sigma sqrt((1 - a) / (1 + a) ||C A_H||_F^2 / n) / rms(C x). 20 s (about 1,000
    filter time constants) puts the sample within 5 % of it."""
    from nengo_lmu.analysis.delay import delay_window_readout, ideal_state, thesis_nrmse
    from nengo_lmu.mapping import principle3

    dt, theta, tau, sigma = 0.001, 0.1, 0.02, 0.05
    realization = _thesis_realization()
    u = _white_signal(20.0, seed=2)
    x = _exact_states(realization, u, dt)
    e = np.random.RandomState(3).standard_normal(x.shape) * sigma
    got = thesis_nrmse(x + e, u, realization, theta, dt, tau)
    C = delay_window_readout(realization, theta)
    import nengo

    A_H, _ = principle3(realization.A, realization.B, nengo.Lowpass(tau), dt=dt)
    a = np.exp(-dt / tau)
    error_rms = sigma * np.sqrt((1 - a) / (1 + a) * np.sum((C @ A_H) ** 2) / len(C))
    signal_rms = np.sqrt(np.mean((ideal_state(realization, u, dt) @ C.T) ** 2))
    assert got == pytest.approx(error_rms / signal_rms, rel=0.05)


def test_window_readout_is_the_legendre_readout():
    """delay_window_readout maps any basis of the delay onto the Legendre memory: for an
    LMU realization it is Realization.readout (to 1e-8); for the thesis' Pade
    realization its last row (r = 1) is the system's own delay readout C."""
    from nengo_lmu.analysis.delay import delay_window_readout
    from nengo_lmu.systems import realize

    r = np.linspace(0, 1, 100)
    lmu = realize(5, 0.3, "balanced")
    assert np.allclose(delay_window_readout(lmu, 0.3), lmu.readout(r), atol=1e-8)
    pade = _thesis_realization()
    C = delay_window_readout(pade, 0.1)
    assert C.shape == (100, 3)
    assert np.allclose(C[-1], pade.C[0], rtol=1e-8, atol=1e-10)


def test_delayed_metric_known_scores():
    """Ours, u(t - theta) alone: the input itself delayed by theta / dt + 1 steps
    scores 0; a silent network 1; the delayed input times 1.1 exactly 0.1."""
    from nengo_lmu.analysis.delay import delayed_nrmse

    dt, theta = 0.001, 0.1
    u = _white_signal(2.0, seed=4)[:, 0]
    delayed = np.concatenate([np.zeros(101), u[:-101]])
    assert delayed_nrmse(delayed, u, theta, dt) < 1e-12
    assert delayed_nrmse(np.zeros_like(u), u, theta, dt) == pytest.approx(1.0)
    assert delayed_nrmse(1.1 * delayed, u, theta, dt) == pytest.approx(0.1)


# -- the scaling defaults (nengo_lmu.analysis.defaults) and the command line ------


@pytest.mark.parametrize(
    "argv, expected",
    [
        ([], {"experiment": "lmu", "duration": 2.0, "dt": 0.001, "seeds": 3}),
        # the feed-forward experiment has its own timing ...
        (["--experiment", "feedforward"], {"duration": 0.1, "dt": 0.0001}),
        (["--experiment", "feedforward", "--dt", "0.001"], {"dt": 0.001}),
        # ... and an option given equal to the default run's still counts as given
        (["--experiment", "feedforward", "--duration", "2"], {"duration": 2.0}),
        # a preset sets the options not given; the default run fills in the rest
        (["--preset", "paper"], {"orders": [1], "seeds": 5, "theta": 0.5}),
        (["--preset", "paper", "--seeds", "3"], {"seeds": 3, "dt": 0.0001}),
        (["--preset", "memory", "--theta", "1"], {"theta": 1.0, "duration": 2.0}),
        # the preset's timing stands, not the feed-forward experiment's
        (["--preset", "memory", "--experiment", "feedforward"], {"duration": 2.0}),
    ],
)
def test_scaling_options_presets_and_defaults(argv, expected):
    from nengo_lmu.cli import build_parser, scaling_config

    config = scaling_config(build_parser().parse_args(["scaling"] + argv))
    assert {k: config[k] for k in expected} == expected


def test_feedforward_timing_written_once():
    """The feed-forward experiment's duration and time step are the table's in
    every place that defaults them: the presets, the grid, the measurement."""
    import inspect

    from nengo_lmu.analysis import defaults

    timing = defaults.FEEDFORWARD_TIMING
    for name in ("paper", "thesis"):
        assert {k: defaults.PRESETS[name][k] for k in timing} == timing
    run = analysis.make_grid("feedforward", neurons=[10], seeds=1)[0]
    assert {k: run[k] for k in timing} == timing
    parameters = inspect.signature(analysis.measure_feedforward).parameters
    assert {k: parameters[k].default for k in timing} == timing
    assert defaults.scaling_run(experiment="feedforward")["dt"] == timing["dt"]


def test_defaults_docstring_examples():
    import doctest

    from nengo_lmu.analysis import defaults

    result = doctest.testmod(defaults)
    assert result.attempted > 0 and result.failed == 0
