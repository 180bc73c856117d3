"""Sub-population ensembles: the build-time solver and the fused step.

References: Nengo's own LstsqL2 solver and neuron types (the fused step must give
what Nengo's operators give), and the Poisson distribution (scipy.stats).
"""

import os
import subprocess
import sys
from pathlib import Path

import nengo
import numpy as np
import pytest
from scipy import stats

import nengo_lmu
from nengo_lmu.analysis.metrics import nrmse
from nengo_lmu.networks import (
    LMUMemory,
    SimSubpopulation,
    SubpopulationConnection,
    SubpopulationEncoders,
    SubpopulationEnsemble,
    _kernels,
    subpopulation_ensemble,
)
from nengo_lmu.networks import subpopulations as sp
from nengo_lmu.networks.fused import FusedState, fused_parameters, threshold

ROOT = Path(__file__).resolve().parents[1]


def configure_fuse(net, fuse):
    """Set the `SubpopulationEnsemble` option ``fuse`` through ``net``'s config."""
    net.config.configures(SubpopulationEnsemble)
    net.config[SubpopulationEnsemble].fuse = fuse


def test_encoders_are_signed_one_hot_blocks():
    enc = SubpopulationEncoders().sample(10, 3, rng=np.random.RandomState(0))
    assert np.array_equal(np.count_nonzero(enc, axis=1), np.ones(10))
    assert np.array_equal(np.abs(enc).argmax(axis=1), [0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
    assert set(enc[enc != 0]) == {-1.0, 1.0}
    again = SubpopulationEncoders().sample(10, 3, rng=np.random.RandomState(0))
    assert np.array_equal(enc, again)


def one_group_network(neuron_type, n=40, seed=1):
    with nengo.Network(seed=seed) as net:
        ens, solver = subpopulation_ensemble(
            n,
            1,
            group_size=n,
            neuron_type=neuron_type,
            max_rates=nengo.dists.Uniform(100, 200),
        )
        out = nengo.Node(size_in=1)
        conn = nengo.Connection(ens, out, solver=solver, synapse=None)
    return net, ens, conn, solver


@pytest.mark.parametrize("neuron_type", [nengo.LIF(), nengo.RectifiedLinear()])
def test_solver_matches_nengo_lstsql2(neuron_type):
    """One group: our build-time decoders are Nengo's LstsqL2(reg=0.1) decoders
    of the same activities (relative 1e-6)."""
    net, ens, conn, solver = one_group_network(neuron_type)
    with nengo.Simulator(net, progress_bar=False) as sim:
        built = sim.data[ens]
        ours = sim.data[conn].weights[0]
    t = solver.points()
    A = neuron_type.rates(t[:, None] * built.encoders[:, 0], built.gain, built.bias)
    theirs, _ = nengo.solvers.LstsqL2(reg=0.1)(A, t[:, None])
    assert np.allclose(ours, theirs[:, 0], rtol=1e-6, atol=1e-12)
    # the Solver interface (what a simulator calling solvers directly uses)
    # gives the same decoders from the activities at the diagonal eval points
    called, _ = solver(A, t[:, None])
    assert np.allclose(called[:, 0], theirs[:, 0], rtol=1e-6, atol=1e-12)


def test_decoders_go_through_nengos_decoder_cache(tmp_path, monkeypatch):
    """A seeded sub-population connection's decoders are stored in Nengo's
    decoder cache and loaded, not solved, when the same network is built again
    (bit-identical); another radius is another key (solved again)."""
    calls = []
    solve = sp.solve_groups
    monkeypatch.setattr(
        sp, "solve_groups", lambda *a, **k: calls.append(1) or solve(*a, **k)
    )

    def build(radius=1.0):
        net, ens, conn, _ = one_group_network(nengo.LIF(), n=400)
        ens.radius = radius
        cache = nengo.cache.DecoderCache(cache_dir=str(tmp_path))
        model = nengo.builder.Model(dt=0.001, decoder_cache=cache)
        with nengo.Simulator(net, model=model, progress_bar=False) as sim:
            return sim.data[conn].weights

    first = build()
    assert len(calls) == 1
    again = build()
    assert len(calls) == 1 and np.array_equal(again, first)
    other = build(radius=2.0)
    assert len(calls) == 2 and not np.allclose(other, first)


def test_solver_rejects_a_function():
    with nengo.Network() as net:
        ens, solver = subpopulation_ensemble(20, 1)
        nengo.Connection(ens, nengo.Node(size_in=1), function=np.square, solver=solver)
    with pytest.raises(nengo.exceptions.BuildError, match="no function"):
        nengo.Simulator(net, progress_bar=False)


def group_problem(n=2000, d=2, seed=0):
    """Gains, biases, signs and groups of ``n`` LIF neurons encoding ``d``
    dimensions, as a sub-population ensemble's build makes them."""
    rng = np.random.RandomState(seed)
    gain, bias = nengo.LIFRate().gain_bias(
        rng.uniform(100, 200, n), rng.uniform(-1, 0.9, n)
    )
    signs = rng.choice([-1.0, 1.0], n)
    groups, _ = sp.groups_of(sp.dimension_blocks(n, d), 200)
    return gain, bias, signs, groups


def test_solves_are_the_same_on_any_number_of_threads():
    """The groups' solves spread over threads (BLAS held to one each) give the
    same decoders, bit for bit, for 1, 2 and 3 threads; they are the ridge
    decoders (numpy's lstsq of the regularized system, relative 1e-8)."""
    gain, bias, signs, groups = group_problem()
    t = np.linspace(-1, 1, 400)
    args = (nengo.LIFRate(), gain, bias, signs, groups, t, 0.1)
    one = sp.solve_groups(*args, chunk_neurons=600, n_threads=1)
    for n_threads in (2, 3):
        many = sp.solve_groups(*args, chunk_neurons=600, n_threads=n_threads)
        assert np.array_equal(many, one)
    g = groups[3]
    A = nengo.LIFRate().rates(t[:, None] * signs[g], gain[g], bias[g])
    sigma = 0.1 * A.max()
    stacked = np.vstack([A, np.sqrt(len(t)) * sigma * np.eye(len(g))])
    target = np.concatenate([t, np.zeros(len(g))])
    expected = np.linalg.lstsq(stacked, target, rcond=None)[0]
    assert np.allclose(one[g], expected, rtol=1e-8, atol=1e-8 * abs(expected).max())


def test_float32_solves_are_float64_to_rounding():
    """``dtype="float32"``: the decoders differ from float64's by at most 2e-3 of
    the largest (the rounding bound: group_size / reg**2 times float32's epsilon,
    1.2e-3, with a margin), and each group decodes its points with the same rms
    error to 1e-4 relative."""
    gain, bias, signs, groups = group_problem()
    t = np.linspace(-1, 1, 400)
    args = (nengo.LIFRate(), gain, bias, signs, groups, t, 0.1, 20_000)
    d64 = sp.solve_groups(*args)
    d32 = sp.solve_groups(*args, dtype="float32")
    assert d32.dtype == np.float64
    diff = np.abs(d32 - d64).max() / np.abs(d64).max()
    assert 0 < diff < 2e-3
    for g in groups:
        A = nengo.LIFRate().rates(t[:, None] * signs[g], gain[g], bias[g])
        e64 = np.sqrt(np.mean((A @ d64[g] - t) ** 2))
        e32 = np.sqrt(np.mean((A @ d32[g] - t) ** 2))
        assert abs(e32 - e64) < 1e-4 * e64


def test_float32_solve_falls_back_to_float64():
    """A group whose Gram matrix is singular in float32 (two neurons equal to
    float32's precision, almost no regularization) is solved in float64: the
    decoders are float64's (relative 1e-12)."""
    A = np.ones((1, 4, 2))
    A[0, :, 1] *= 1 + 1e-9
    A[0, :, 0] += np.arange(4) * 1e-10
    t = np.linspace(-1, 1, 4)
    expected = sp._ridge(A, t, 1e-6)
    assert np.allclose(sp._ridge(A, t, 1e-6, "float32"), expected, rtol=1e-12)


def test_float32_memory_has_the_float64_error():
    """A rate memory (no spike noise, so the error is the decoders') solved in
    float32 has the float64 memory's NRMSE to 1e-3 relative; the layout's option
    reaches the solver, and the two decoders are not the same."""
    from nengo_lmu.analysis.experiments import measure_memory
    from nengo_lmu.networks.layouts import Subpopulations

    errors = {}
    for dtype in ("float64", "float32"):
        r = measure_memory(
            3,
            0.3,
            3000,
            neuron_type=nengo.LIFRate(),
            duration=1.0,
            layout=Subpopulations(solver_dtype=dtype),
        )
        errors[dtype] = r["nrmse"], r["decoded"]
    (e64, y64), (e32, y32) = errors["float64"], errors["float32"]
    assert abs(e32 - e64) < 1e-3 * e64
    assert not np.array_equal(y32, y64)


def test_solver_dtype_is_checked_and_keys_the_cache():
    with pytest.raises(nengo.exceptions.ValidationError, match="dtype"):
        sp.SubpopulationSolver(dtype="float16")
    with pytest.raises(nengo.exceptions.ValidationError, match="reg >= 0.01"):
        sp.SubpopulationSolver(dtype="float32", reg=0.001)
    from nengo_lmu.networks.layouts import Subpopulations

    with pytest.raises(nengo.exceptions.ValidationError, match="solver_dtype"):
        Subpopulations(solver_dtype="single")
    assert "float32" in repr(Subpopulations(solver_dtype="float32"))
    key32 = nengo.cache.Fingerprint(sp.SubpopulationSolver(dtype="float32"))
    key64 = nengo.cache.Fingerprint(sp.SubpopulationSolver())
    assert str(key32) != str(key64)


def memory_run(neuron_type, fuse, n=2400, seed=0, duration=0.5, **kw):
    with nengo.Network(seed=seed) as net:
        configure_fuse(net, fuse)
        u = nengo.Node(nengo.processes.WhiteSignal(10.0, high=2.0, rms=0.5, y0=0))
        memory = LMUMemory(
            3, 0.3, n, neuron_type=neuron_type, layout="subpopulations", **kw
        )
        nengo.Connection(u, memory.input, synapse=None)
        exact = nengo.Node(nengo_lmu.LegendreMemory(3, 0.3), size_in=1)
        nengo.Connection(u, exact, synapse=None)
        p = nengo.Probe(memory.output, synapse=0.01)
        p_exact = nengo.Probe(exact, synapse=0.01)
        p_spikes = nengo.Probe(memory.ensembles[0].neurons)
    with nengo.Simulator(net, progress_bar=False) as sim:
        fused = [op for op in sim.model.operators if isinstance(op, SimSubpopulation)]
        sim.run(duration)
    return sim.data[p], sim.data[p_exact], sim.data[p_spikes], len(fused)


@pytest.mark.parametrize(
    "neuron_type",
    [
        nengo.LIF(),
        nengo.LIFRate(),
        nengo.RegularSpiking(nengo.LIFRate()),
        nengo.SpikingRectifiedLinear(),
        nengo.RectifiedLinear(),
    ],
    ids=lambda t: type(t).__name__,
)
def test_fused_step_equals_nengo_operators(neuron_type):
    """Deterministic neuron types: the fused step gives Nengo's own operators'
    spikes and decoded output (the same arithmetic: to 1e-9). Rates to 1e-9
    plus 1e-7 of their value: just above threshold a rate amplifies a last-bit
    difference in the current (the decoded feedback is summed in another order
    than Nengo's dot product; measured 3e-9 at 2.8 Hz on numpy 2)."""
    y_ref, _, s_ref, n_ref = memory_run(neuron_type, False)
    y, _, s, n_fused = memory_run(neuron_type, True)
    assert (n_ref, n_fused) == (0, 1)
    assert np.allclose(s, s_ref, rtol=1e-7, atol=1e-9)
    assert np.allclose(y, y_ref, rtol=0, atol=1e-9)


def test_fused_poisson_matches_nengo_statistically():
    """Poisson spikes come from another generator than Nengo's, so compare what
    matters: the memory's error against the exact memory (within 20 % of
    Nengo's), and the mean rate (within 2 %)."""
    nt = nengo.PoissonSpiking(nengo.LIFRate())
    y_ref, ex, s_ref, _ = memory_run(nt, False, duration=1.0)
    y, ex2, s, n_fused = memory_run(nt, True, duration=1.0)
    assert n_fused == 1 and np.array_equal(ex, ex2)
    e_ref, e = nrmse(y_ref[300:], ex[300:]), nrmse(y[300:], ex[300:])
    assert e < 0.2 and abs(e - e_ref) < 0.2 * e_ref, (e, e_ref)
    assert abs(s.mean() / s_ref.mean() - 1) < 0.02


def test_same_seed_bit_identical_other_seed_differs():
    nt = nengo.PoissonSpiking(nengo.LIFRate())
    a = memory_run(nt, True, duration=0.2, seed=4)[2]
    b = memory_run(nt, True, duration=0.2, seed=4)[2]
    c = memory_run(nt, True, duration=0.2, seed=5)[2]
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def fused_state(neuron_type, n, J, dt=0.001, seed=3):
    """A FusedState of n neurons with input current J (gain 0, bias J)."""
    dims = np.zeros(n, dtype=int)
    state = FusedState(
        dims, np.zeros(n), fused_parameters(neuron_type), dt, seed, None, 1
    )
    state.out = np.zeros(n)
    state.voltage = np.zeros(n)
    state.refractory_time = np.zeros(n)
    return state, np.full(n, float(J))


@pytest.mark.parametrize("use_numba", [True, False])
def test_poisson_counts_follow_the_poisson_distribution(use_numba):
    """Spike counts per step for a constant rate: Poisson(rate * dt), by a
    chi-square test against scipy.stats.poisson (p > 0.001), and the counts
    over 100 steps have Fano factor 1 (within 5 %)."""
    if use_numba and not _kernels.HAVE_NUMBA:
        pytest.skip("numba is not installed")
    nt = nengo.PoissonSpiking(nengo.LIFRate())
    dt = 0.005
    state, base = fused_state(nt, 20_000, J=3.0, dt=dt)
    state.use_numba = use_numba
    rate = nengo.LIFRate().rates(np.array([3.0]), 1.0, 0.0)[0]
    counts = np.zeros((100, 20_000))
    for step in range(100):
        _kernels.fused_step(state, np.zeros(1), base, step)
        counts[step] = state.out * dt
    assert np.allclose(counts, np.round(counts))
    lam = rate * dt
    observed = np.bincount(counts[0].astype(int), minlength=6)[:5]
    expected = stats.poisson.pmf(np.arange(5), lam) * counts.shape[1]
    keep = expected > 5
    chi2 = np.sum((observed[keep] - expected[keep]) ** 2 / expected[keep])
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 0.001
    total = counts.sum(axis=0)
    assert abs(total.mean() / (100 * lam) - 1) < 0.01
    assert abs(total.var() / total.mean() - 1) < 0.05


def poisson_counts(n, J, x, dt=0.001, seed=3, use_numba=True, gain=None):
    """Spike counts (steps, n) of n Poisson LIF-rate neurons of bias ``J`` and
    encoder gain ``gain`` (default 0) for the inputs ``x`` (one per step), and
    their intensities rate * dt (Nengo's LIFRate)."""
    nt = nengo.PoissonSpiking(nengo.LIFRate())
    state, base = fused_state(nt, n, J=0.0, dt=dt, seed=seed)
    base = np.broadcast_to(np.asarray(J, dtype=float), (n,)).copy()
    if gain is not None:
        state.enc_gain = np.broadcast_to(np.asarray(gain, dtype=float), (n,)).copy()
    state.use_numba = use_numba
    counts = np.zeros((len(x), n))
    lam = np.zeros((len(x), n))
    for step, xt in enumerate(x):
        _kernels.fused_step(state, np.array([xt]), base, step)
        counts[step] = state.out * dt
        J_t = base + state.enc_gain * xt
        lam[step] = nengo.LIFRate().rates(J_t, 1.0, 0.0).ravel() * dt
    assert np.allclose(counts, np.round(counts))
    return np.round(counts), lam


def chi2_pvalue(counts, lam, k_max=8):
    """Pearson's chi-square p-value of counts against Poisson(lam) (each count
    with its own intensity: the expected frequency of k is the sum of the
    pmfs), over the values 0 .. k_max with expected frequency above 5."""
    k = np.arange(k_max + 1)
    observed = np.bincount(counts.astype(int).ravel(), minlength=k_max + 2)[: k.size]
    expected = stats.poisson.pmf(k[:, None], lam.ravel()[None, :]).sum(axis=1)
    keep = expected > 5
    chi2 = np.sum((observed[keep] - expected[keep]) ** 2 / expected[keep])
    return stats.chi2.sf(chi2, keep.sum() - 1)


@pytest.mark.parametrize("use_numba", [True, False])
def test_poisson_counts_with_a_varying_rate(use_numba):
    """The exponential clocks under a rate that changes every step (a sine
    input through neurons of different gains and biases, dt = 5 ms, up to ~6
    spikes per step): counts per step and neuron follow Poisson(rate * dt)
    (chi-square, p > 0.001), their total is right (within 3 standard errors),
    and the counts of consecutive steps, and of neighbouring neurons, are
    uncorrelated (within 5 standard errors of 0)."""
    if use_numba and not _kernels.HAVE_NUMBA:
        pytest.skip("numba is not installed")
    n, steps, dt = 4000, 200, 0.005
    rng = np.random.RandomState(1)
    x = np.sin(np.linspace(0, 6 * np.pi, steps))
    counts, lam = poisson_counts(
        n,
        rng.uniform(0.5, 3.0, n),
        x,
        dt=dt,
        gain=rng.uniform(-40, 40, n),
        use_numba=use_numba,
    )
    assert counts.max() >= 4 and lam.max() > 1 and (lam == 0).mean() > 0.1
    assert chi2_pvalue(counts, lam) > 0.001
    assert abs(counts.sum() - lam.sum()) < 3 * np.sqrt(lam.sum())
    # Poisson residuals, unit variance where lam > 0
    on = lam > 0
    z = np.where(on, (counts - lam) / np.sqrt(np.where(on, lam, 1.0)), 0.0)
    assert np.all(counts[~on] == 0)
    both = on[1:] & on[:-1]
    lag1 = np.sum(z[1:] * z[:-1] * both) / both.sum()
    assert abs(lag1) < 5 / np.sqrt(both.sum()), lag1
    pairs = on[:, 1:] & on[:, :-1]
    neighbours = np.sum(z[:, 1:] * z[:, :-1] * pairs) / pairs.sum()
    assert abs(neighbours) < 5 / np.sqrt(pairs.sum()), neighbours
    assert abs(np.sum(z**2 * on) / on.sum() - 1) < 0.02


def test_numpy_and_numba_steps_agree():
    """The numpy fallback does the numba kernel's arithmetic: the same Exp(1)
    draws (the counter-based generator, bit for bit), the same Poisson spikes,
    including steps of several spikes (the clocks agree to rounding: the
    compiled pass fuses multiply-adds), and the same LIF spikes."""
    if not _kernels.HAVE_NUMBA:
        pytest.skip("numba is not installed")
    x = np.linspace(-1, 2, 60)
    gain = np.linspace(1, 40, 5000)
    a, _ = poisson_counts(5000, 0.5, x, use_numba=True, gain=gain)
    b, _ = poisson_counts(5000, 0.5, x, use_numba=False, gain=gain)
    assert a.max() >= 2 and a.sum() > 10_000
    assert np.array_equal(a, b)
    for nt in (nengo.PoissonSpiking(nengo.LIFRate()), nengo.LIF()):
        outs, clocks = [], []
        for use_numba in (True, False):
            state, base = fused_state(nt, 5000, J=0.0)
            state.enc_gain = np.linspace(1, 4, 5000)
            state.use_numba = use_numba
            trace = []
            for step in range(50):
                _kernels.fused_step(state, np.array([1.0]), base, step)
                trace.append(state.out.copy())
            outs.append(np.array(trace))
            clocks.append(state.clock)
        assert np.array_equal(outs[0], outs[1]), type(nt).__name__
        if clocks[0] is not None:
            assert np.allclose(clocks[0], clocks[1], rtol=1e-12, atol=1e-12)
    import numba

    @numba.njit
    def draws(key, idx):
        return [_kernels._exp_draw(key, i) for i in idx]

    idx = np.arange(0, 10**6, 7, dtype=np.uint64)
    for j in (0, 1, 5):
        key = _kernels.sub_key(_kernels.step_key(11, 3), j)
        ours = np.array(draws(key, idx))
        assert np.array_equal(ours, _kernels.exp_draws_np(key, idx))


def test_poisson_layout_skips_only_silent_neurons():
    """With a constant bias, the kernel keeps the neurons sorted by threshold
    and skips those below it: the same spikes and decoded output as with every
    neuron processed (bias None), and as the numpy code, for inputs that sweep
    every neuron across its threshold (and some beyond)."""
    nt = nengo.PoissonSpiking(nengo.LIFRate())
    n, d = 6000, 2
    rng = np.random.RandomState(3)
    dims = sp.dimension_blocks(n, d)
    gain, bias = nengo.LIFRate().gain_bias(
        rng.uniform(100, 400, n), rng.uniform(-1, 1, n)
    )
    enc_gain = gain * rng.choice([-1.0, 1.0], n)
    enc_gain[:5] = 0.0  # no gain: always processed (one of them fires)
    bias[0], bias[1:5] = 3.0, 0.5
    decoders = rng.randn(n)
    xs = np.stack([np.linspace(-1.5, 1.5, 80), np.linspace(1.2, -1.2, 80)], axis=1)
    runs = {}
    for name, b, use_numba in [
        ("sorted", bias, True),
        ("all", None, True),
        ("numpy", bias, False),
    ]:
        if use_numba and not _kernels.HAVE_NUMBA:
            continue
        state = FusedState(
            dims, enc_gain, fused_parameters(nt), 0.001, 7, decoders, d, bias=b
        )
        state.use_numba = use_numba
        state.out = np.zeros(n)
        spikes, decoded = [], []
        for step, x in enumerate(xs):
            decoded.append(_kernels.fused_step(state, x, bias, step))
            spikes.append(state.out.copy())
        runs[name] = np.array(spikes), np.array(decoded), state
    spikes, decoded, state = runs["numpy"]
    assert spikes[:, 0].sum() > 0 and spikes[:, 1:5].sum() == 0
    assert (spikes > 0).mean() > 0.05
    for name in ("sorted", "all"):
        if name in runs:
            assert np.array_equal(runs[name][0], spikes), name
            assert np.allclose(runs[name][1], decoded, rtol=1e-12, atol=1e-9), name
    if "sorted" in runs:
        lay = runs["sorted"][2].layout
        assert not np.array_equal(lay.order, np.arange(n))
        assert np.array_equal(np.sort(lay.order), np.arange(n))
        # each chunk sorted by the thresholds the kernel's search recomputes,
        # those of the neurons' own gains and biases
        sorted_gain = runs["sorted"][2].enc_gain
        for lo, hi, sign in zip(lay.chunk_lo, lay.chunk_hi, lay.chunk_sign):
            if sign != 0:
                thr = threshold(lay.base[lo:hi], sorted_gain[lo:hi])
                assert np.all(np.diff(thr) >= 0)
                i = lay.order[lo:hi]
                assert np.array_equal(thr, (1 - bias[i]) / np.abs(enc_gain[i]))


def driven_poisson_memory(period, high):
    """In the active network: the order-3, theta 0.3 s memory of 3000 Poisson
    LIF-rate neurons (sub-populations), driven by white noise."""
    u = nengo.Node(nengo.processes.WhiteSignal(period, high=high, rms=0.5, y0=0))
    memory = LMUMemory(
        3,
        0.3,
        3000,
        neuron_type=nengo.PoissonSpiking(nengo.LIFRate()),
        layout="subpopulations",
    )
    nengo.Connection(u, memory.input, synapse=None)
    return memory


def test_poisson_reset_and_initial_clocks():
    """The exponential clocks are a signal: sim.reset() gives the same spikes
    bit for bit, and the initial clocks are Exp(1) draws of the seed."""
    with nengo.Network(seed=6) as net:
        memory = driven_poisson_memory(period=10.0, high=2.0)
        p = nengo.Probe(memory.ensembles[0].neurons)
        p_out = nengo.Probe(memory.output)
    with nengo.Simulator(net, progress_bar=False) as sim:
        clock = sim.model.sig[memory.ensembles[0].neurons]["clock"]
        # zeros (no second copy of the clocks): the first step draws them
        assert not np.any(clock.initial_value)
        sim.run(0.1)
        first, first_out = sim.data[p].copy(), sim.data[p_out].copy()
        assert np.all(sim.signals[clock] > 0)
        sim.reset()
        assert not np.any(sim.signals[clock])
        sim.run(0.1)
        assert np.array_equal(sim.data[p], first)
        assert np.array_equal(sim.data[p_out], first_out)
        (op,) = [o for o in sim.model.operators if isinstance(o, SimSubpopulation)]
        sim.reset()
        op.fused.start_clocks()  # what the first step draws
        initial = sim.signals[clock].copy()
    assert first.sum() > 0
    seed = sim.model.seeds[memory.ensembles[0]]
    order = op.fused.layout.order
    assert np.array_equal(np.sort(order), np.arange(3000))
    assert np.array_equal(initial, _kernels.initial_clock(seed % 2**63, order))
    # drawn in chunks or at once: the same draws
    everyone = _kernels.initial_clock(seed % 2**63, np.arange(3000))
    assert np.array_equal(everyone[order], initial)
    assert np.array_equal(_kernels.initial_clock(seed % 2**63, order, chunk=7), initial)
    assert stats.kstest(initial, "expon").pvalue > 0.001


def test_direct_neuron_input_is_kept():
    """A connection into the neurons themselves (inhibition) still acts on the
    fused step, as on Nengo's operators."""

    def run(fuse):
        with nengo.Network(seed=2) as net:
            configure_fuse(net, fuse)
            memory = LMUMemory(
                2, 0.3, 2000, neuron_type=nengo.LIF(), layout="subpopulations"
            )
            stim = nengo.Node(lambda t: 1.0 if t > 0.1 else 0.0)
            nengo.Connection(
                stim, memory.ensembles[0].neurons, transform=-3 * np.ones((2000, 1))
            )
            nengo.Connection(nengo.Node(0.5), memory.input)
            p = nengo.Probe(memory.ensembles[0].neurons)
        with nengo.Simulator(net, progress_bar=False) as sim:
            sim.run(0.2)
        return sim.data[p]

    ref, fused = run(False), run(True)
    assert np.allclose(fused, ref, atol=1e-9)
    assert fused[:100].sum() > 0 and fused[150:].sum() == 0  # inhibited


def test_not_fused_where_it_cannot_be():
    """Probing the neurons' input, or a neuron type the kernels do not know,
    keeps Nengo's operators (and the network still runs)."""
    with nengo.Network(seed=0) as net:
        a = LMUMemory(2, 0.3, 2000, layout="subpopulations")
        nengo.Probe(a.ensembles[0].neurons, "input")
        b = LMUMemory(
            2, 0.3, 2000, neuron_type=nengo.Sigmoid(), layout="subpopulations"
        )
        c = LMUMemory(2, 0.3, 2000, layout="subpopulations")
    with nengo.Simulator(net, progress_bar=False) as sim:
        fused = [op for op in sim.model.operators if isinstance(op, SimSubpopulation)]
        sim.run(0.01)
    assert len(fused) == 1 and "memory[0]" in str(fused[0].tag)
    assert fused[0].sets[0] is sim.model.sig[c.ensembles[0].neurons]["out"]
    del a, b


def fuse_option_run(config_fuse=None, **kwargs):
    """A 2-D sub-population ensemble of LIF neurons decoded by a
    `SubpopulationConnection`, built without Nengo's optimizer (so that each
    operator is the builders'): decoded output, spikes, operators, signals."""
    with nengo.Network(seed=3) as net:
        if config_fuse is not None:
            configure_fuse(net, config_fuse)
        u = nengo.Node(lambda t: np.sin(8 * t))
        ens, solver = subpopulation_ensemble(1200, 2, neuron_type=nengo.LIF(), **kwargs)
        out = nengo.Node(size_in=2)
        conn = SubpopulationConnection(ens, out, solver=solver, synapse=None)
        nengo.Connection(u, ens, transform=[[1.0], [-0.5]])
        p = nengo.Probe(out, synapse=0.01)
        p_spikes = nengo.Probe(ens.neurons)
    with nengo.Simulator(net, optimize=False, progress_bar=False) as sim:
        sim.run(0.3)
    signals = [sim.model.sig[ens].get("encoders"), sim.model.sig[conn].get("weights")]
    signals = [sig for sig in signals if sig is not None]  # the dense n x d ones
    return sim.data[p], sim.data[p_spikes], sim.model.operators, signals


def test_fuse_option_switches_operators():
    """`SubpopulationEnsemble`'s ``fuse`` option, as an argument or through a
    network's config (the argument wins), chooses the fused step (one
    SimSubpopulation that decodes too; no dense encoders or weights are
    formed, no SimNeurons) or Nengo's operators (SimNeurons and the dense
    encoding and decoding products). Both give the same spikes and decoded
    output to 1e-9 (the same arithmetic, summed in another order). With
    ``use_numba=False`` the fused step runs the numpy code: the same spikes, and
    the decoded output to 1e-12."""

    def kinds(ops, signals):
        fused = [op for op in ops if isinstance(op, SimSubpopulation)]
        neurons = [op for op in ops if isinstance(op, nengo.builder.neurons.SimNeurons)]
        dense = [sig for sig in signals if any(sig in op.reads for op in ops)]
        return len(fused), [len(op.incs) for op in fused], len(neurons), len(dense)

    y, s, ops, signals = fuse_option_run()
    assert kinds(ops, signals) == (1, [1], 0, 0) and signals == []  # none formed
    assert s.sum() > 0 and np.abs(y).max() > 0.3
    for config_fuse, kwargs in [(None, {"fuse": False}), (False, {})]:
        y_ref, s_ref, ops, signals = fuse_option_run(config_fuse, **kwargs)
        assert kinds(ops, signals) == (0, [], 1, 2)
        assert np.allclose(s, s_ref, rtol=0, atol=1e-9)
        assert np.allclose(y, y_ref, rtol=0, atol=1e-9)
    y2, s2, ops, signals = fuse_option_run(False, fuse=True)
    assert kinds(ops, signals) == (1, [1], 0, 0)
    assert np.array_equal(s2, s) and np.array_equal(y2, y)
    y3, s3, ops, _ = fuse_option_run(use_numba=False)
    (op,) = [op for op in ops if isinstance(op, SimSubpopulation)]
    assert op.fused.use_numba is False
    assert np.array_equal(s3, s) and np.allclose(y3, y, rtol=0, atol=1e-12)


def test_plain_connection_decodes_a_fused_ensemble():
    """A plain `nengo.Connection` from a fused ensemble (what
    `subpopulation_ensemble` users without `SubpopulationConnection` write) keeps
    Nengo's decoding product: the same output as the fused decoding, to 1e-9."""
    outputs = []
    for connection in (nengo.Connection, SubpopulationConnection):
        with nengo.Network(seed=5) as net:
            ens, solver = subpopulation_ensemble(800, 1, neuron_type=nengo.LIF())
            nengo.Connection(nengo.Node(0.4), ens)
            out = nengo.Node(size_in=1)
            connection(ens, out, solver=solver, synapse=None)
            p = nengo.Probe(out, synapse=0.01)
        with nengo.Simulator(net, progress_bar=False) as sim:
            (op,) = [o for o in sim.model.operators if isinstance(o, SimSubpopulation)]
            assert len(op.incs) == (connection is SubpopulationConnection)
            sim.run(0.2)
        outputs.append(sim.data[p])
    assert np.allclose(outputs[0], outputs[1], rtol=0, atol=1e-9)
    assert abs(outputs[1][-1, 0] - 0.4) < 0.05


def test_no_environment_variable_read_at_import():
    """Neither fusing nor numba is switched by the environment: a fresh
    interpreter with the former switches set (``NENGO_LMU_FUSE=0``,
    ``NENGO_LMU_NUMBA=0``) still fuses and compiles, and no module of
    `nengo_lmu.networks` reads ``os.environ``."""
    code = (
        "import nengo\n"
        "from nengo_lmu.networks import LMUMemory, SimSubpopulation, _kernels\n"
        "with nengo.Network(seed=0) as net:\n"
        "    LMUMemory(2, 0.3, 400, layout='subpopulations')\n"
        "model = nengo.builder.Model()\n"
        "model.build(net)\n"
        "ops = [o for o in model.operators if isinstance(o, SimSubpopulation)]\n"
        "print(len(ops), ops[0].fused.use_numba, _kernels.HAVE_NUMBA)\n"
    )
    env = dict(
        os.environ, NENGO_LMU_FUSE="0", NENGO_LMU_NUMBA="0", PYTHONPATH=str(ROOT)
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    numba = str(_kernels.HAVE_NUMBA)
    assert result.stdout.split() == ["1", numba, numba]
    for path in (ROOT / "nengo_lmu" / "networks").glob("*.py"):
        text = path.read_text()
        assert "os.environ" not in text and "getenv" not in text, path.name


def test_nengo_dl_builds_the_same_network():
    """nengo_dl uses Nengo's builder for the solver but not the fused step: the
    same network, unchanged, decodes the memory as well as nengo does."""
    nengo_dl = pytest.importorskip("nengo_dl")
    with nengo.Network(seed=0) as net:
        u = nengo.Node(nengo.processes.WhiteSignal(10.0, high=2.0, rms=0.5, y0=0))
        memory = LMUMemory(
            3, 0.3, 2400, neuron_type=nengo.LIF(), layout="subpopulations"
        )
        nengo.Connection(u, memory.input, synapse=None)
        p = nengo.Probe(memory.output, synapse=0.01)
    with nengo.Simulator(net, progress_bar=False) as ref:
        ref.run(0.5)
    with nengo_dl.Simulator(net, progress_bar=False) as dl:
        dl.run(0.5)
        assert not any(isinstance(op, SimSubpopulation) for op in dl.model.operators)
    assert nrmse(dl.data[p], ref.data[p]) < 0.05


def test_compiled_logs_match_libm():
    """The kernels' plain-arithmetic logarithms (which let the loops vectorize)
    agree with numpy's to a few ulps (measured: 2 ulps) over the range the LIF
    rate and the Exp(1) draws use, and the numpy version of ``log(a / b)`` is
    the compiled one bit for bit."""
    y = np.logspace(-12, 300, 20_001)
    a = np.logspace(-300, 300, 20_001)
    b = a[::-1] * np.linspace(0.5, 2, a.size)
    ratio = _kernels.log_ratio_np(a, b)
    ref = np.log(a) - np.log(b)
    big = np.abs(ref) > 10  # the reference's own rounding is small there
    assert np.allclose(ratio[big], ref[big], rtol=6e-16, atol=0)
    q = np.linspace(0.5, 2.0, 20_001)
    near = _kernels.log_ratio_np(q, np.ones_like(q))
    assert np.allclose(near, np.log(q), rtol=6e-16, atol=0)
    lam = _kernels.poisson_lam_np(1 + y, _kernels.LIF_RATE, 0.02, 0.002, 1e-3)
    ref_lam = nengo.LIFRate().rates(1 + y, 1.0, 0.0).ravel() * 1e-3
    assert np.allclose(lam, ref_lam, rtol=2e-15, atol=0)
    if not _kernels.HAVE_NUMBA:
        return
    import numba

    @numba.njit
    def apply(y, a, b):
        l1p, r = np.empty_like(y), np.empty_like(a)
        for i in range(y.shape[0]):
            l1p[i] = _kernels._log1p(y[i])
            r[i] = _kernels._log_ratio(a[i], b[i])
        return l1p, r

    log1p, compiled = apply(y, a, b)
    assert np.allclose(log1p, np.log1p(y), rtol=6e-16, atol=0)
    assert np.array_equal(compiled, ratio)


@pytest.mark.parametrize(
    "neuron_type", [nengo.LIF(), nengo.PoissonSpiking(nengo.LIFRate())]
)
def test_fused_build_forms_dense_arrays_only_when_read(neuron_type):
    """The fused build keeps each neuron's dimension and sign, not ``n x d``
    encoders or ``d x n`` weights; reading ``sim.data[ens].encoders``,
    ``.scaled_encoders`` or ``sim.data[conn].weights`` forms them, equal to what
    Nengo's own builder (``fuse=False``) makes for the same seed; a probe of the
    scaled encoders still works."""

    def run(fuse):
        with nengo.Network(seed=5) as net:
            ens, solver = subpopulation_ensemble(
                900, 3, neuron_type=neuron_type, fuse=fuse
            )
            out = nengo.Node(size_in=3)
            conn = SubpopulationConnection(
                ens, out, solver=solver, transform=[2.0, -1.0, 0.5], synapse=None
            )
            probe = nengo.Probe(ens, "scaled_encoders")
        with nengo.Simulator(net, progress_bar=False) as sim:
            sim.step()
        return sim, ens, conn, probe

    sim, ens, conn, probe = run(True)
    ref, ens_ref, conn_ref, probe_ref = run(False)
    assert isinstance(sim.data[ens], sp.BuiltSubpopulation)
    assert "weights" not in sim.model.sig[conn]
    names = ("encoders", "scaled_encoders", "gain", "bias", "max_rates", "intercepts")
    for name in names:  # max_rates and intercepts drawn again when read
        assert np.array_equal(
            getattr(sim.data[ens], name), getattr(ref.data[ens_ref], name)
        ), name
    assert np.array_equal(sim.data[conn].weights, ref.data[conn_ref].weights)
    assert np.array_equal(sim.data[probe][0], ref.data[probe_ref][0])


@pytest.mark.parametrize("use_numba", [True, False])
def test_poisson_output_written_only_when_read(use_numba):
    """A Poisson step whose neurons' output nothing reads skips writing it; the
    decoded output is the same bit for bit as with the output probed, and a
    second (unfused) connection from the ensemble turns the writes on and
    decodes the same spikes as Nengo's product would."""

    def run(probe_neurons=False, second=False, probe_input=False):
        with nengo.Network(seed=4) as net:
            net.config.configures(SubpopulationEnsemble)
            net.config[SubpopulationEnsemble].use_numba = use_numba
            memory = driven_poisson_memory(period=1.0, high=3.0)
            p = nengo.Probe(memory.output, synapse=None)
            ens = memory.ensembles[0]
            if probe_input:  # a connection's input is the neurons' output
                (fused,) = [c for c in net.all_connections if c.pre_obj is ens]
                p_input = nengo.Probe(fused, "input", synapse=None)
            if probe_neurons and not second:
                nengo.Probe(ens.neurons)
            if second:
                out = nengo.Node(size_in=3)
                conn = SubpopulationConnection(
                    ens, out, solver=sp.SubpopulationSolver(), synapse=None
                )
                p_second = nengo.Probe(out, synapse=None)
                if probe_neurons:
                    p_neurons = nengo.Probe(ens.neurons, synapse=None)
        with nengo.Simulator(net, progress_bar=False) as sim:
            sim.run(0.1)
        (op,) = [o for o in sim.model.operators if isinstance(o, SimSubpopulation)]
        if probe_input:
            assert np.any(sim.data[p_input])
        if second:  # read spikes, not the zeros of an unwritten output
            assert np.any(sim.data[p_second])
        if second and probe_neurons:
            expected = sim.data[p_neurons] @ sim.data[conn].weights.T
            assert np.allclose(sim.data[p_second], expected, rtol=1e-12, atol=1e-9)
            assert np.any(expected)
        return sim.data[p], op.writes_output

    quiet, quiet_writes = run()
    probed, probed_writes = run(probe_neurons=True)
    assert not quiet_writes and probed_writes
    assert np.array_equal(quiet, probed) and np.any(quiet)
    _, second_writes = run(second=True)  # the unfused connection alone
    run(second=True, probe_neurons=True)  # it decodes what Nengo's product would
    _, input_writes = run(probe_input=True)
    assert second_writes and input_writes
