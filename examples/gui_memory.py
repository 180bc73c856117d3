"""A spiking LMU delay line to watch in nengo-gui.

Band-limited white noise ``u(t)`` drives an order-6 Legendre memory of the last
``theta = 0.5`` s, realized by 1200 spiking LIF neurons
(`nengo_lmu.networks.LMUMemory`). Its delay readout decodes ``u(t - theta)`` from
the spikes; beside it, the same readout of the exact (neuron-free) memory,
`nengo_lmu.LegendreMemory`, shows what the neurons approximate.

Open it in nengo-gui (``pip install nengo-gui``) and press play::

    nengo examples/gui_memory.py

``examples/gui_memory.py.cfg``, next to this file, lays out value plots of the
input, the spiking readout and the exact readout. The GUI rewrites that file
when plots are moved or added; ``git checkout examples/gui_memory.py.cfg``
restores the layout (or delete it to start from an empty one).

Run as a plain script, it simulates one second and prints the error of both
readouts against the ideally delayed input::

    python examples/gui_memory.py
"""

import nengo

import nengo_lmu
from nengo_lmu.analysis import nrmse
from nengo_lmu.networks import LMUMemory

ORDER = 6
THETA = 0.5  # seconds of input the memory holds
N_NEURONS = 1200

# The readout node is unfiltered (a sum of weighted spikes): plot and probe it,
# and the exact readout, through the same lowpass so they compare like for like.
# (The value plots in gui_memory.py.cfg use the same time constant.)
SYNAPSE = 0.02

# 2 Hz band limit: about one cycle per theta, which an order-6 memory follows
# closely; rms 0.4 keeps the signal mostly within the plots' [-1.5, 1.5].
process = nengo.processes.WhiteSignal(period=10.0, high=2.0, rms=0.4, y0=0.0)

model = nengo.Network(label="LMU delay line", seed=0)
with model:
    u = nengo.Node(process, label="input u(t)")

    # radii are set for the input the memory will actually see
    memory = LMUMemory(
        order=ORDER,
        theta=THETA,
        n_neurons=N_NEURONS,
        input_process=process,
        label="LMU memory (1200 LIF)",
    )
    nengo.Connection(u, memory.input, synapse=None)
    readout = memory.add_readout(1.0, label="spiking u(t - theta)")

    # The exact memory has no neurons: the gap between its readout and u(t -
    # theta) is the order-6 truncation; the rest of the spiking readout's error
    # is spike noise and decoding error.
    exact = nengo.Node(
        nengo_lmu.LegendreMemory(order=ORDER, theta=THETA),
        size_in=1,
        label="exact memory",
    )
    nengo.Connection(u, exact, synapse=None)
    reference = nengo.Node(size_in=1, label="exact u(t - theta)")
    nengo.Connection(
        exact,
        reference,
        transform=nengo_lmu.legendre_readout(ORDER, 1.0),
        synapse=None,
    )


def main(duration=1.0):
    """Simulate ``duration`` seconds and print the readouts' errors.

    Parameters
    ----------
    duration : float
        Simulated seconds; the errors are measured over ``t >= THETA``, once the
        memory has seen a full window.

    Returns
    -------
    errors : dict
        NRMSE of the spiking and exact readouts against the ideally delayed
        (and equally filtered) input.
    """
    with model:
        probes = {
            name: nengo.Probe(obj, synapse=SYNAPSE)
            for name, obj in [("u", u), ("spiking", readout), ("exact", reference)]
        }
    with nengo.Simulator(model, progress_bar=False) as sim:
        sim.run(duration)
    data = {name: sim.data[p][:, 0] for name, p in probes.items()}
    steps = int(round(THETA / sim.dt))
    if steps >= len(data["u"]):
        raise ValueError(f"duration must exceed theta = {THETA} s")
    # the filtered input, delayed by theta: the target of both readouts
    target = data["u"][:-steps]
    errors = {name: nrmse(data[name][steps:], target) for name in ("spiking", "exact")}
    print(
        f"delay readout u(t - {THETA} s), t in [{THETA}, {duration}] s, "
        f"order {ORDER}, {N_NEURONS} LIF neurons:"
    )
    print(f"  NRMSE spiking readout: {errors['spiking']:.3f}")
    print(f"  NRMSE exact readout:   {errors['exact']:.3f} (order-{ORDER} truncation)")
    return errors


if __name__ == "__main__":
    main()
