"""Loihi through nengo-loihi: the emulator here, hardware where nxsdk is present."""

import contextlib
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

nengo_loihi = pytest.importorskip("nengo_loihi")

from nengo_lmu import LegendreMemory, loihi  # noqa: E402
from nengo_lmu.analysis import measure_delay_trial, nrmse  # noqa: E402
from nengo_lmu.cli import main  # noqa: E402
from nengo_lmu.loihi import LoihiWiring  # noqa: E402
from nengo_lmu.networks import LMUMemory, Wiring  # noqa: E402

# nengo_lmu.loihi registers its builder on import where nengo_loihi is already
# imported; another test module may have imported it first.
loihi.register_builders()


@pytest.mark.parametrize(
    "neuron_type, pattern",
    [
        (nengo.PoissonSpiking(nengo.LIFRate()), "random numbers.*off-chip"),
        (nengo.AdaptiveLIF(), "AdaptiveLIF has no Loihi implementation"),
        (nengo.RegularSpiking(nengo.LIFRate()), "RegularSpiking"),
    ],
)
def test_off_chip_neuron_types_rejected(neuron_type, pattern):
    with pytest.raises(ValidationError, match=pattern):
        loihi.check_on_chip_neuron_type(neuron_type)
    with pytest.raises(ValidationError, match=pattern):
        loihi.thesis_memory(3, 0.1, 384, neuron_type=neuron_type)


def test_on_chip_types_accepted():
    for neuron_type in [nengo.LIF(), nengo.SpikingRectifiedLinear()]:
        assert loihi.check_on_chip_neuron_type(neuron_type) is neuron_type


def test_thesis_protocol_trial():
    """One trial of the thesis protocol (order 3, theta 0.1 s, 384 LIF neurons,
    3 Hz input, 3 s), scored on u(t - theta) alone. The reference simulator
    measured 0.092-0.111 over seeds 0-3 (25 trials of 5 s: 0.084 [0.080,
    0.089]); asserted below 0.13, where a silent network scores 1. The standard
    emulator wiring measured 0.41 and 0.36 (seeds 0, 1; 25 trials: 0.369 [0.357,
    0.380]): asserted between 0.25 and 0.5, its known gap to the reference."""
    reference = measure_delay_trial(seed=0, simulator="nengo", duration=3.0)
    emulator = measure_delay_trial(seed=0, simulator="nengo_loihi", duration=3.0)
    assert reference["nrmse"] < 0.13, reference
    assert 0.25 < emulator["nrmse"] < 0.5, emulator
    assert emulator["steps_per_s"] > 0


def _loihi_and_exact(seed, simulator="nengo_loihi"):
    """An order-3, theta-0.1 s LMUMemory of 384 neurons wired for ``simulator``
    (`loihi.loihi_memory`) beside the exact memory, 2 s of 3 Hz noise (RMS
    0.5); the NRMSE of the memory against the exact one (both filtered 20 ms,
    the exact one a step later, as the network lags it), after 0.2 s."""
    process = nengo.processes.WhiteSignal(2.0, high=3, rms=0.5, y0=0, seed=seed + 1)
    target = "loihi" if simulator == "nengo_loihi" else "nengo"
    with nengo.Network(seed=seed) as net:
        u = nengo.Node(process)
        memory = loihi.loihi_memory(3, 0.1, 384, input_process=process, target=target)
        nengo.Connection(u, memory.input, synapse=None)
        exact = nengo.Node(LegendreMemory(3, 0.1), size_in=1)
        nengo.Connection(u, exact, synapse=None)
        p = nengo.Probe(memory.output, synapse=0.02)
        pe = nengo.Probe(exact, synapse=0.02)
    Simulator = nengo_loihi.Simulator if simulator == "nengo_loihi" else nengo.Simulator
    with _quiet(), Simulator(net, progress_bar=False) as sim:
        sim.run(2.0)
    return nrmse(sim.data[p][200:], sim.data[pe][199:-1]), memory


@contextlib.contextmanager
def _quiet():
    """nengo_loihi's warnings about each chip ensemble's one input filter (the
    Loihi wiring's intent: the longest, the memory's synapse, is used)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="tau_s is (already set|currently)")
        yield


def test_default_memory_on_emulator_against_exact():
    """The default LMUMemory wired for Loihi (``LoihiWiring()``: 3 pools of 128
    with neuron-to-neuron recurrent weights) builds and runs on nengo_loihi's
    emulator without any other argument, and tracks the exact memory: measured
    NRMSE 0.065, 0.073, 0.061 (seeds 0-2), the same network wired for Nengo on
    nengo.Simulator 0.061, 0.063, 0.056. Asserted: below 0.1 and within 1.4x of
    Nengo's (a silent network scores 1; the standard wiring on the emulator
    about 0.3)."""
    error, memory = _loihi_and_exact(0)
    reference, _ = _loihi_and_exact(0, simulator="nengo")
    assert memory.layout == "per-dimension" and memory.recurrent == "weights"
    assert error < 0.1, error
    assert error < 1.4 * reference, (error, reference)


def test_input_filtered_once():
    """A step of 0.5 into a lowpass system (tau 0.05 s) wired for Loihi: the
    emulator's output (probed through 10 ms) follows the closed form of the step
    filtered once by the system, ``0.5 (1 - (a e^(-t/a) - b e^(-t/b)) / (a -
    b))``, a = 0.05, b = 0.01: measured NRMSE 0.16, 0.13, 0.16 (seeds 0-2;
    one pool of 200 neurons). The input filtered again by the 0.1 s synapse
    (what a host-side synapse gives) would be 0.43-0.45 away. Asserted: below
    0.25, and under half the distance to the twice-filtered response."""
    from nengo_lmu.networks import LinearNetwork

    tau_system, tau_probe, c, dt = 0.05, 0.01, 0.5, 0.001
    with nengo.Network(seed=0) as net:
        u = nengo.Node(c)
        network = LinearNetwork(nengo.Lowpass(tau_system), 200, wiring=LoihiWiring())
        nengo.Connection(u, network.input, synapse=None)
        p = nengo.Probe(network.output, synapse=tau_probe)
    with _quiet(), nengo_loihi.Simulator(net, progress_bar=False) as sim:
        sim.run(0.4)
    t = sim.trange()
    once = c * (
        1
        - (tau_system * np.exp(-t / tau_system) - tau_probe * np.exp(-t / tau_probe))
        / (tau_system - tau_probe)
    )
    twice = nengo.Lowpass(network.synapse.tau).filt(once, dt=dt)
    error = nrmse(sim.data[p][:, 0], once)
    assert error < 0.25, error
    assert error < 0.5 * nrmse(sim.data[p][:, 0], twice), error
    # the host-to-chip connections carry no synapse
    inputs = [c for c in network.all_connections if c.pre_obj is network.input]
    assert inputs and all(c.synapse is None for c in inputs)


def test_unrepresentable_transform_is_a_clear_error():
    """The default LMUMemory wired for Nengo (per-dimension, decoded recurrence)
    on nengo_loihi: a recurrent transform entry of 0.009 gives a decode-neuron
    block too weak for any weight exponent. The error names the connection and
    the remedy, before nengo_loihi's own ("Could not find appropriate weight
    exponent", naming a block). A network wired for Loihi refuses Nengo's
    simulator."""
    with nengo.Network(seed=0) as net:
        u = nengo.Node(0.3)
        memory = LMUMemory(3, 0.1, 384)
        nengo.Connection(u, memory.input, synapse=None)
    with pytest.raises(
        nengo.exceptions.BuildError,
        match=r"nengo_loihi cannot represent <Connection from <Node 'state'>.*"
        r"LoihiWiring\(\)",
    ):
        nengo_loihi.Simulator(net, progress_bar=False)
    with nengo.Network(seed=0) as net:
        LMUMemory(3, 0.1, 384, wiring=LoihiWiring())
    with pytest.raises(nengo.exceptions.BuildError, match="without wiring"):
        nengo.Simulator(net, progress_bar=False)


def _snapshot(network):
    return [
        (
            c,
            c.pre_obj,
            c.post_obj,
            c.synapse,
            c.solver,
            np.array(getattr(c.transform, "init", 1.0), copy=True),
        )
        for c in network.all_connections
    ] + [(e, e.n_neurons, e.max_rates, e.intercepts) for e in network.all_ensembles]


def test_loihi_wiring_is_built_not_edited():
    """``LoihiWiring()`` is wired at construction: one pool per state, a
    neuron-to-neuron connection per nonzero recurrent entry (9 for order 3), the
    input connections without a synapse, each carrying at most 1 for the input
    process's peak, 100-120 Hz and intercepts U(-1, 0.5); building it in
    nengo_loihi changes none of its objects (checked before and after)."""
    from nengo_lmu.loihi import input_peak

    process = nengo.processes.WhiteSignal(2.0, high=3, rms=1.0, y0=0, seed=1)
    with nengo.Network(seed=0) as net:
        u = nengo.Node(process)
        memory = LMUMemory(3, 0.1, 384, input_process=process, wiring=LoihiWiring())
        nengo.Connection(u, memory.input, synapse=None)
    pools = memory.all_ensembles
    assert [e.n_neurons for e in pools] == [128, 128, 128]
    assert all(e.max_rates.low == 100 and e.intercepts.high == 0.5 for e in pools)
    recurrent = [c for c in memory.all_connections if c.pre_obj in pools]
    recurrent = [c for c in recurrent if c.post_obj in pools]
    assert len(recurrent) == 9 and all(c.solver.weights for c in recurrent)
    assert all(c.synapse.tau == 0.1 for c in recurrent)
    inputs = [c for c in memory.all_connections if c.pre_obj is memory.input]
    assert all(c.synapse is None for c in inputs)
    peak = input_peak(process, 0.001, 2.0)
    for pool in pools:
        into = [c for c in inputs if c.post_obj is pool]
        total = sum(float(np.abs(c.transform.init).sum()) for c in into)
        assert all(peak * np.abs(c.transform.init).sum() <= 1 + 1e-9 for c in into)
        assert np.isclose(
            total, np.abs(memory.input_transform[pools.index(pool)]).sum()
        )
    before = _snapshot(net)
    with _quiet(), nengo_loihi.Simulator(net, progress_bar=False) as sim:
        sim.run(0.01)
    after = _snapshot(net)
    assert len(before) == len(after)
    for old, new in zip(before, after):
        for a, b in zip(old, new):
            assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a is b


def test_neuron_to_neuron_recurrence():
    """The weights option builds and runs in both simulators; in Nengo it is the
    same memory (measured 0.04-0.09 against the exact delay). On the emulator the
    8-bit weights' shared exponent costs most of the precision: measured 0.84 and
    0.87 (seeds 0, 1, 2 s), near a silent network's 1. The emulator is
    deterministic for a seed, so 0.95 fails only if the emulated memory stops
    carrying the signal (a silent or unrelated output scores 1 or more)."""
    factory = lambda o, t, n, dt, p: loihi.thesis_memory(  # noqa: E731
        o, t, n, dt, p, recurrent="weights"
    )
    reference = measure_delay_trial(
        seed=0, simulator="nengo", duration=2.0, memory_factory=factory
    )
    emulator = measure_delay_trial(
        seed=0, simulator="nengo_loihi", duration=2.0, memory_factory=factory
    )
    assert reference["nrmse"] < 0.12
    assert emulator["nrmse"] < 0.95, emulator
    with pytest.raises(ValidationError, match="recurrent"):
        loihi.thesis_memory(3, 0.1, 384, recurrent="mixed")


def test_emulator_trials_reproducible():
    a = measure_delay_trial(seed=3, simulator="nengo_loihi", duration=1.0)
    b = measure_delay_trial(seed=3, simulator="nengo_loihi", duration=1.0)
    assert a["nrmse"] == b["nrmse"]


def test_poisson_memory_off_chip_matches_nengo():
    """A Poisson memory marked off-chip runs in nengo_loihi's Simulator beside an
    on-chip ensemble, and is the same memory (the host runs it like Nengo; only
    the Poisson random numbers differ)."""
    order, theta = 3, 0.5

    def build():
        with nengo.Network(seed=0) as net:
            u = nengo.Node(nengo.processes.WhiteSignal(3.0, high=2, rms=0.4, y0=0))
            memory = LMUMemory(
                order, theta, 1200, neuron_type=nengo.PoissonSpiking(nengo.LIFRate())
            )
            nengo.Connection(u, memory.input, synapse=None)
            on_chip = nengo.Ensemble(50, 1)
            nengo.Connection(u, on_chip)
            exact = nengo.Node(LegendreMemory(order, theta), size_in=1)
            nengo.Connection(u, exact, synapse=None)
            probes = (
                nengo.Probe(memory.output, synapse=0.02),
                nengo.Probe(exact, synapse=0.02),
            )
        return net, memory, probes

    net, memory, (p, pe) = build()
    loihi.set_off_chip(net, memory)
    with nengo_loihi.Simulator(net, progress_bar=False) as sim:
        sim.run(2.0)
    error = nrmse(sim.data[p][500:], sim.data[pe][499:-1])
    net, memory, (p, pe) = build()
    with nengo.Simulator(net, progress_bar=False) as ref:
        ref.run(2.0)
    ref_error = nrmse(ref.data[p][500:], ref.data[pe][499:-1])
    assert error < 1.5 * ref_error + 0.02, (error, ref_error)


def test_poisson_on_chip_error():
    with nengo.Network(seed=0) as net:
        u = nengo.Node(0.5)
        memory = LMUMemory(
            3,
            0.5,
            300,
            neuron_type=nengo.PoissonSpiking(nengo.LIFRate()),
            layout="ensemble",
        )
        nengo.Connection(u, memory.input, synapse=None)
    with pytest.raises(nengo.exceptions.BuildError, match="off-chip"):
        nengo_loihi.Simulator(net, progress_bar=False)


def _loihi_table(out):
    """``{(simulator, network): (thesis metric, ours)}`` from the printed table."""
    table = {}
    for line in out.splitlines():
        if not line.startswith(("reference,", "emulator,")):
            continue
        simulator, network = line.split(",")[0], line.split(",")[1].split()[0]
        numbers = line.replace("[", " ").replace("]", " ").replace(",", " ").split()
        values = [float(v) for v in numbers if v.replace(".", "", 1).isdigit()]
        # thesis mean, low, high, ours mean, low, high, steps/s
        assert len(values) == 7, line
        table[(simulator, network)] = (values[0], values[3])
        assert (
            values[1] <= values[0] <= values[2] and values[4] <= values[3] <= values[5]
        )
    return table


def test_cli_loihi_prints_both_metrics(capsys):
    """`nengo-lmu loihi` prints, per simulator and network, the thesis' metric
    and ours, each with its interval. 2 trials of 1 s (thesis' inputs 1 and 2):
    measured thesis' network on the reference 0.058 (thesis metric) and 0.101
    (ours); the LMU memory wired for Loihi on the emulator 0.060 and 0.080.
    Asserted: the reference below 0.1 (thesis) and 0.2 (ours), the emulator's
    memory below 0.1 and 0.15 (the thesis' network there: 0.15; a silent
    network scores 1)."""
    args = ["loihi", "--trials", "2", "--duration", "1.0"]
    assert main(args + ["--runs", "nengo:thesis,nengo_loihi:loihi"]) == 0
    out = capsys.readouterr().out
    assert "thesis metric" in out and "ours" in out
    assert "[0.055, 0.059]" in out  # the thesis' figure, printed beside
    table = _loihi_table(out)
    assert set(table) == {("reference", "thesis'"), ("emulator", "LMUMemory")}
    reference, ours = table[("reference", "thesis'")], table[("emulator", "LMUMemory")]
    assert reference[0] < 0.1 and reference[1] < 0.2, table
    assert ours[0] < 0.1 and ours[1] < 0.15, table


def test_cli_loihi_output_is_quiet():
    """`nengo-lmu loihi` in a fresh process, as a user runs it (no
    TF_CPP_MIN_LOG_LEVEL set): none of the upstream messages that do not change
    the result (TensorFlow's TF-TRT warning, nengo_loihi's zeroed initial
    voltages, the emulator's NaN cast), and the weight rounding reported in one
    line with the bits lost (instead of one warning per weight block)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    proc = subprocess.run(
        [sys.executable, "-m", "nengo_lmu.cli", "loihi", "--trials", "1"]
        + ["--duration", "0.5", "--runs", "nengo_loihi:loihi"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    out = proc.stdout + proc.stderr
    for noise in (
        "TF-TRT",
        "initial values for 'voltage'",
        "invalid value encountered in cast",
        "extra bits in weight rounding",
        "has not been tested",
    ):
        assert noise not in out, (noise, out)
    assert len(re.findall(r"rounded \d+ weight block\(s\)", out)) == 1, out
    assert re.search(r"losing up to \d+ extra bits", out), out


def test_thesis_network_both_metrics_tiny_run():
    """One run of the thesis' protocol (its input 1, 2 s) with the thesis'
    network. Reference: measured 0.048 (thesis metric) and 0.078 (ours); the
    thesis reports [0.055, 0.059] over 250 runs; asserted 0.03-0.08 and 0.04-0.13.
    Emulator, the thesis' Loihi settings: measured 0.149 and 0.132 (thesis on
    Loihi: 0.148); asserted 0.09-0.25 and 0.08-0.25. In both, ours exceeds the
    thesis' metric on the reference (one delay, the hardest, against the average
    over the window)."""
    from nengo_lmu.analysis.delay import thesis_trial

    reference = thesis_trial(0, "thesis", "nengo")
    emulator = thesis_trial(0, "thesis", "nengo_loihi")
    assert 0.03 < reference["thesis_nrmse"] < 0.08, reference
    assert 0.04 < reference["nrmse"] < 0.13, reference
    assert reference["nrmse"] > reference["thesis_nrmse"], reference
    assert 0.09 < emulator["thesis_nrmse"] < 0.25, emulator
    assert 0.08 < emulator["nrmse"] < 0.25, emulator


def test_thesis_network_is_the_linear_network():
    """ThesisDelayNetwork (decoded) is LinearNetwork with the thesis' choices: the
    same realization (transfer function) and the same Principle 3 transforms (to
    1e-9, up to the sign of each balanced state); its Loihi form solves every
    recurrent connection for neuron-to-neuron weights at 100-120 Hz."""
    from nengo_lmu.analysis.delay import ThesisDelayNetwork
    from nengo_lmu.networks import LinearNetwork
    from nengo_lmu.systems import PadeDelay

    thesis = ThesisDelayNetwork(add_to_container=False)
    ours = LinearNetwork(
        PadeDelay(0.1, 3),
        384,
        synapse=0.01,
        mapping="continuous",
        layout="per-dimension",
        realizer="balanced",
        radii=[1, 1 / 2, 1 / 3],
        add_to_container=False,
    )
    assert thesis.realization.transfer_equal(ours.realization)
    signs = np.sign(thesis.input_transform[:, 0] * ours.input_transform[:, 0])
    S = np.diag(signs)
    assert np.allclose(S @ thesis.recurrent_transform @ S, ours.recurrent_transform)
    assert np.allclose(S @ thesis.input_transform, ours.input_transform)
    assert [e.n_neurons for e in thesis.all_ensembles] == [128, 128, 128]
    chip = ThesisDelayNetwork(loihi=True, add_to_container=False)
    recurrent = [c for c in chip.all_connections if c.pre_obj in chip.pools]
    recurrent = [c for c in recurrent if c.post_obj in chip.pools]
    assert len(recurrent) == 9 and all(c.solver.weights for c in recurrent)
    assert all(e.max_rates.low == 100 for e in chip.pools)


def test_chip_limits():
    assert loihi.max_neurons_per_core() == 1024
    # 384 neurons: one core, plus one for 60 decode neurons
    assert loihi.check_fits(loihi.thesis_memory(3, 0.1, 384)) == 2
    # wired for Loihi: three pools, one core each, no decode neurons
    assert loihi.check_fits(loihi.loihi_memory(3, 0.1, 384)) == 3
    # 131,072 neurons (128 cores' worth) plus decode neurons overflow one chip
    big = LMUMemory(
        3, 0.1, 131_072, layout="ensemble", add_to_container=False, radii=1.0
    )
    with pytest.raises(ValidationError, match="needs about 129 Loihi cores.*128"):
        loihi.check_fits(big)
    assert loihi.check_fits(big, n_chips=2) == 129


def test_hardware():
    if not loihi.hardware_available():
        pytest.skip("nxsdk is not importable: no Loihi hardware on this machine")
    result = measure_delay_trial(seed=0, simulator="nengo_loihi", duration=2.0)
    # the thesis measured [0.146, 0.153] on Loihi with this protocol's network
    assert result["nrmse"] < 0.3, result


def test_chip_memory_is_the_loihi_wiring():
    """`loihi.chip_memory` is kept for earlier code: it is ``LMUMemory(...,
    wiring=LoihiWiring())``; the weights variant of the Nengo-wired memory has one ens
    -> ens connection solved for weights and no decoded recurrence."""
    memory = loihi.chip_memory(3, 0.1, 384)
    assert memory.target == "loihi" and memory.recurrent == "weights"
    assert isinstance(memory.wiring, LoihiWiring)
    assert memory.layout == "per-dimension" and memory.synapse.tau == 0.1
    weights = loihi.thesis_memory(3, 0.1, 384, recurrent="weights")
    (ens,) = weights.all_ensembles
    into = [c for c in weights.all_connections if c.post_obj is ens]
    recurrent = [c for c in into if c.pre_obj is ens]
    assert len(into) == 2 and len(recurrent) == 1
    assert recurrent[0].solver.weights
    assert not [c for c in into if c.pre_obj is weights.state]
    with pytest.raises(ValidationError, match="needs layout 'ensemble' or"):
        LMUMemory(3, 0.1, 300, layout="subpopulations", wiring=Wiring("weights"))


def _recurrent_weight_exponents(n_neurons):
    """nengo_loihi's weight exponent of each recurrent synapse of a
    ``LoihiWiring()`` memory of ``n_neurons`` (the thesis' input process)."""
    process = nengo.processes.WhiteSignal(2.0, high=3, rms=1.0, y0=0, seed=1)
    with nengo.Network(seed=0) as net:
        u = nengo.Node(process)
        memory = loihi.loihi_memory(3, 0.1, n_neurons, input_process=process)
        nengo.Connection(u, memory.input, synapse=None)
    with _quiet(), nengo_loihi.Simulator(net, progress_bar=False) as sim:
        sim.run(0.005)
    pool = memory.pool_size
    exponents = [
        s.synapse_cfg.weight_exp
        for block in sim.model.blocks
        for s in block.synapses
        if s.n_axons == pool
    ]
    return memory, exponents


def test_loihi_memory_scales_by_independent_copies():
    """1,536 neurons wired for Loihi form 4 independent copies of 3 pools of
    `LOIHI_POOL_SIZE` (128) neurons, each copy's 9 recurrent weight connections
    within it and the decoded state the copies' average. It builds and runs on
    the emulator (one pool of 512 per state overflowed a core's synapse memory:
    1,082,752 bits of 1,048,576), and its recurrent synapses keep the weights'
    precision of 384 neurons: mean weight exponent measured -2.14 against -2.11
    (one pool of 256 per state at 768 neurons: -2.56; each doubling of a pool
    halves its weights against the host input's, which set the core's scale).
    Asserted: within 0.25 of 384's."""
    from nengo_lmu.loihi import LOIHI_POOL_SIZE

    memory, exponents = _recurrent_weight_exponents(1536)
    _, reference = _recurrent_weight_exponents(384)
    pools = memory.all_ensembles
    assert memory.pool_size == LOIHI_POOL_SIZE == 128
    assert [e.n_neurons for e in pools] == [128] * 12
    recurrent = [c for c in memory.all_connections if c.pre_obj in pools]
    recurrent = [c for c in recurrent if c.post_obj in pools]
    assert len(recurrent) == 4 * 9
    # connections stay within a copy (pools 3c .. 3c + 2)
    assert all(
        pools.index(c.pre_obj) // 3 == pools.index(c.post_obj) // 3 for c in recurrent
    )
    decodes = [c for c in memory.all_connections if c.post_obj is memory.state]
    assert len(decodes) == 12
    assert all(np.allclose(c.transform.init, 0.25) for c in decodes)
    assert len(exponents) == len(recurrent) and len(reference) == 9
    assert abs(np.mean(exponents) - np.mean(reference)) < 0.25, (
        np.mean(exponents),
        np.mean(reference),
    )


def test_copies_match_one_pool_per_state_on_nengo():
    """On nengo.Simulator, copies of 128 neurons per state are as accurate as one
    pool per state (thesis protocol, trial 0, thesis metric: 768 neurons
    measured 0.0441 and 0.0423; 1,536: 0.0353 and 0.0358). Asserted at 768:
    within 1.15x, and the 384-neuron memory has no copies (unchanged)."""
    copies = measure_delay_trial(
        seed=0,
        simulator="nengo",
        duration=2.0,
        input_rms=1.0,
        n_neurons=768,
        variant="loihi",
        input_seed=1,
    )
    factory = lambda o, t, n, dt, p: loihi.loihi_memory(  # noqa: E731
        o, t, n, dt, p, target="nengo", pool_size=None
    )
    single = measure_delay_trial(
        seed=0,
        simulator="nengo",
        duration=2.0,
        input_rms=1.0,
        n_neurons=768,
        memory_factory=factory,
        input_seed=1,
    )
    assert copies["thesis_nrmse"] < 1.15 * single["thesis_nrmse"], (copies, single)
    small = loihi.loihi_memory(3, 0.1, 384)
    assert [e.label for e in small.all_ensembles] == [
        "memory[0][0]",
        "memory[0][1]",
        "memory[0][2]",
    ]
    with pytest.raises(ValidationError, match="pool_size=64 needs layout"):
        LMUMemory(3, 0.1, 384, layout="ensemble", wiring=Wiring(pool_size=64))


@pytest.mark.slow
def test_copies_on_emulator_track_nengo():
    """1,536 neurons on the emulator: thesis protocol, trial 0, thesis metric,
    measured 0.0354 (nengo.Simulator, the same network: 0.0353; 384 neurons:
    0.058 and 0.052). Asserted: within 1.3x of Nengo's (the issue's target at
    384) and below 384's 0.058 (error falls with m). About 30 s."""
    from nengo_lmu.analysis.delay import thesis_trial

    emulator = thesis_trial(0, "loihi", "nengo_loihi", n_neurons=1536)
    reference = thesis_trial(0, "loihi", "nengo", n_neurons=1536)
    assert emulator["thesis_nrmse"] < 1.3 * reference["thesis_nrmse"]
    assert emulator["thesis_nrmse"] < 0.058
