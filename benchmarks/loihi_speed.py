"""Steps per second of the thesis delay network: reference simulator vs Loihi emulator.

The same network (`nengo_lmu.loihi.thesis_memory`, order 3, theta 0.1 s, 384 LIF
neurons) run for ``--duration`` seconds in nengo.Simulator and nengo_loihi's
emulator, in the same process, for each variant below; best of ``--repeats``.
The emulator routes every spike through Python (nengo_loihi's
``emulator/interface.py``: ``update_input`` and ``map_spikes`` took 65 % of a
profiled run), so its speed falls with the number of spikes per step: the
variants change the firing rates and what is probed.

Usage::

    python benchmarks/loihi_speed.py
"""

import argparse
import os
import time
import warnings

import nengo

from nengo_lmu import loihi

VARIANTS = {
    # name: LMUMemory arguments that differ from thesis_memory
    "default rates 200-400 Hz": {},
    "rates 100-120 Hz (nengo_loihi.set_defaults)": {
        "max_rates": nengo.dists.Uniform(100, 120),
        "intercepts": nengo.dists.Uniform(-1, 0.5),
    },
}


def steps_per_second(simulator, overrides, duration, seed=0):
    import nengo_loihi  # pylint: disable=import-outside-toplevel

    with nengo.Network(seed=seed) as net:
        u = nengo.Node(nengo.processes.WhiteSignal(duration, high=3, rms=0.3, y0=0))
        memory = loihi.thesis_memory(3, 0.1, 384, **overrides)
        nengo.Connection(u, memory.input, synapse=None)
        delayed = memory.add_readout(1.0)
        nengo.Probe(delayed, synapse=0.02)
    Simulator = nengo_loihi.Simulator if simulator == "emulator" else nengo.Simulator
    with Simulator(net, progress_bar=False) as sim:
        t0 = time.perf_counter()
        sim.run(duration)
        elapsed = time.perf_counter() - t0
    return duration / sim.dt / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"machine: {os.cpu_count()} cores; {args.duration} s at dt = 1 ms")
    print(
        f"{'variant':<46}{'reference steps/s':>18}{'emulator steps/s':>18}{'ratio':>8}"
    )
    for name, overrides in VARIANTS.items():
        ref = max(
            steps_per_second("reference", overrides, args.duration)
            for _ in range(args.repeats)
        )
        emu = max(
            steps_per_second("emulator", overrides, args.duration)
            for _ in range(args.repeats)
        )
        print(f"{name:<46}{ref:>18.0f}{emu:>18.0f}{ref / emu:>7.1f}x", flush=True)


if __name__ == "__main__":
    main()
