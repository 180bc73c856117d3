"""Loihi through nengo-loihi: the emulator here, hardware where nxsdk is present."""

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

nengo_loihi = pytest.importorskip("nengo_loihi")

from nengo_lmu import LegendreMemory, loihi  # noqa: E402
from nengo_lmu.analysis import measure_delay_trial, nrmse  # noqa: E402
from nengo_lmu.cli import main  # noqa: E402
from nengo_lmu.networks import LMUMemory  # noqa: E402


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


def test_chip_wired_variant_beats_standard():
    """Connections into the ensemble without a synapse, the chip's decode filter
    as the one 20 ms synapse, 500 Hz host-input neurons, 100-120 Hz rates:
    measured 0.117 against 0.369 for the standard wiring (25 trials of 5 s; thesis
    emulator 0.145-0.151)."""
    chip = [
        measure_delay_trial(
            seed=s, simulator="nengo_loihi", variant="chip", duration=2.0
        )["nrmse"]
        for s in (0, 1)
    ]
    standard = [
        measure_delay_trial(seed=s, simulator="nengo_loihi", duration=2.0)["nrmse"]
        for s in (0, 1)
    ]
    assert np.mean(chip) < 0.3, chip
    assert np.mean(chip) < 0.75 * np.mean(standard), (chip, standard)
    with pytest.raises(ValidationError, match="nengo_loihi only"):
        measure_delay_trial(seed=0, simulator="nengo", variant="chip")


def test_neuron_to_neuron_recurrence():
    """The weights option builds and runs in both simulators; in Nengo it is the
    same memory (measured 0.04-0.09 against the exact delay). On the emulator the
    8-bit weights' shared exponent costs most of the precision: measured 0.86 and
    0.94 (seeds 0, 1; 3 trials of 3 s: 0.80), near a silent network's 1."""
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
    assert 0.6 < emulator["nrmse"] < 1.05, emulator
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
    (ours); chip-wired memory on the emulator 0.121 and 0.154. Asserted: the
    reference below 0.1 (thesis) and 0.2 (ours), the emulator's chip-wired
    memory below 0.2 and 0.3 and above the reference (the emulator's
    quantization costs accuracy; a silent network scores 1)."""
    args = ["loihi", "--trials", "2", "--duration", "1.0"]
    assert main(args + ["--runs", "nengo:thesis,nengo_loihi:chip"]) == 0
    out = capsys.readouterr().out
    assert "thesis metric" in out and "ours" in out
    assert "[0.055, 0.059]" in out  # the thesis' figure, printed beside
    table = _loihi_table(out)
    assert set(table) == {("reference", "thesis'"), ("emulator", "chip-wired")}
    reference, chip = table[("reference", "thesis'")], table[("emulator", "chip-wired")]
    assert reference[0] < 0.1 and reference[1] < 0.2, table
    assert chip[0] < 0.2 and chip[1] < 0.3, table
    assert chip[0] > reference[0], table


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


def test_chip_wiring_is_built_not_edited():
    """The chip-wired and neuron-to-neuron memories are constructed that way
    (LMUMemory arguments), not edited after construction: the connections into
    the ensemble carry no synapse while the mapping is made for 20 ms, and the
    weights variant has one ens -> ens connection solved for weights and no
    decoded recurrence."""
    memory = loihi.chip_memory(3, 0.1, 384)
    (ens,) = memory.all_ensembles
    into = [c for c in memory.all_connections if c.post_obj is ens]
    assert len(into) == 2 and all(c.synapse is None for c in into)
    assert memory.connection_synapse is None and memory.synapse.tau == 0.02
    weights = loihi.thesis_memory(3, 0.1, 384, recurrent="weights")
    (ens,) = weights.all_ensembles
    into = [c for c in weights.all_connections if c.post_obj is ens]
    recurrent = [c for c in into if c.pre_obj is ens]
    assert len(into) == 2 and len(recurrent) == 1
    assert recurrent[0].solver.weights
    assert not [c for c in into if c.pre_obj is weights.state]
    with pytest.raises(ValidationError, match="needs layout='ensemble'"):
        LMUMemory(3, 0.1, 300, layout="per-dimension", recurrent="weights")
