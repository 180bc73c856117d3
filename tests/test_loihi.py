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


def test_cli_loihi_table(capsys):
    """The table of `nengo-lmu loihi` on 2 trials of 1 s: measured reference
    0.118, standard emulator 0.325, chip-wired 0.116; asserted within about
    +-0.1 of those, and the chip-wired wiring better than the standard one."""
    assert main(["loihi", "--trials", "2", "--duration", "1.0"]) == 0
    out = capsys.readouterr().out
    lines = [
        line for line in out.splitlines() if "reference" in line or "emulator" in line
    ]
    assert any(line.startswith("reference") for line in lines)
    assert any(line.startswith("emulator") for line in lines)
    assert any("chip-wired" in line for line in lines)
    values = {}
    for line in lines:
        if not line.startswith(("reference", "emulator")):
            continue
        name = "chip" if "chip-wired" in line else line.split()[0]
        values[name] = float(line.split(")")[1].split()[0])  # the NRMSE column
    assert values["reference"] < 0.2, values
    assert 0.2 < values["emulator"] < 0.45, values
    assert values["chip"] < 0.2 and values["chip"] < values["emulator"], values


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
