"""Print the NRMSE of an exported LMU memory run by every NIR reader installed here.

Run from the repository root with the project's Python::

    python hardware/nir_compare.py                   # Norse, snnTorch, Lava
    python hardware/nir_compare.py --readers lava --seeds 1 2 3

For each reader it builds the memory that reader is checked with (order 3, theta
0.5 s, 600 LIF neurons without refractory period, 2 s of 2 Hz white noise of rms
0.5), simulates it in Nengo, writes the .nir file, runs the reader's script in its
own environment (``.venv-nir``: ``bash hardware/setup_nir_reader.sh``;
``.venv-lava``: ``bash hardware/setup_lava.sh``) and scores the decoded memory, both
filtered by 20 ms, after the first 0.5 s: against the exact memory
(``nengo_lmu.LegendreMemory``, one step earlier) and against Nengo's simulation of
the same network. The same protocol as tests/test_nir.py.

- Norse and snnTorch: Nengo's default rates (200-400 Hz), dt 0.1 ms (snnTorch's
  importer fixes its step at 0.1 ms).
- Lava (Loihi 2), fixed point (bit-accurate) and floating point: nengo_loihi's
  rates and intercepts (100-120 Hz, U(-1, 0.5)) at dt 0.5 ms; the fixed-point row
  also gives the threshold bits and rounded time constants used.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import nengo
import numpy as np

import nengo_lmu
import nengo_lmu.nir
from nengo_lmu.analysis import nrmse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENVIRONMENTS = {
    "norse": (".venv-nir", "nir_norse_run.py", "setup_nir_reader.sh"),
    "snntorch": (".venv-nir", "nir_snntorch_run.py", "setup_nir_reader.sh"),
    "lava": (".venv-lava", "nir_lava_run.py", "setup_lava.sh"),
}
LIF0 = nengo.LIF(tau_ref=0, min_voltage=-np.inf)
PROBE_SYNAPSE = 0.02
SKIP = 0.5  # seconds: the window filling


def simulate_memory(dt, duration, seed, n_neurons=600, **memory_args):
    """The spiking memory and the exact one in Nengo, on one recorded input."""
    n_steps = int(round(duration / dt))
    u = nengo.processes.WhiteSignal(10.0, high=2.0, rms=0.5, y0=0).run_steps(
        n_steps, dt=dt, rng=np.random.RandomState(0)
    )
    with nengo.Network(seed=seed) as net:
        u_node = nengo.Node(nengo.processes.PresentInput(u, dt))
        memory = nengo_lmu.networks.LMUMemory(
            3, 0.5, n_neurons, neuron_type=LIF0, dt=dt, **memory_args
        )
        nengo.Connection(u_node, memory.input, synapse=None)
        exact = nengo.Node(nengo_lmu.LegendreMemory(3, 0.5), size_in=1)
        nengo.Connection(u_node, exact, synapse=None)
        p = nengo.Probe(memory.output, synapse=PROBE_SYNAPSE)
        p_exact = nengo.Probe(exact, synapse=PROBE_SYNAPSE)
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run(duration)
    return memory, sim, u, sim.data[p], sim.data[p_exact]


def compare(reader, seed, workdir, duration=2.0):
    """Rows (name, vs exact, vs Nengo, note) for one reader and seed."""
    venv, script, _ = ENVIRONMENTS[reader]
    if reader == "lava":
        dt = 0.0005
        memory_args = {
            "max_rates": nengo.dists.Uniform(100, 120),
            "intercepts": nengo.dists.Uniform(-1, 0.5),
        }
    else:
        dt, memory_args = 0.0001, {}
    memory, sim, u, y, exact = simulate_memory(dt, duration, seed, **memory_args)
    graph_path = os.path.join(workdir, f"{reader}.nir")
    u_path = os.path.join(workdir, f"{reader}_u.npy")
    out_path = os.path.join(workdir, f"{reader}_out.npz")
    nengo_lmu.nir.write(memory, graph_path, sim=sim)
    np.save(u_path, u)
    args = [] if reader == "snntorch" else ["--dt", str(dt)]
    start = time.time()
    subprocess.run(
        [
            os.path.join(ROOT, venv, "bin", "python"),
            os.path.join(ROOT, "hardware", script),
        ]
        + [graph_path, u_path, out_path]
        + args,
        check=True,
    )
    seconds = time.time() - start
    result = np.load(out_path, allow_pickle=False)
    s = slice(int(round(SKIP / dt)), None)
    exact_lagged = exact[s.start - 1 : -1]
    rows = [(f"Nengo (dt {dt * 1e3:g} ms)", nrmse(y[s], exact_lagged), 0.0, "")]
    outputs = ["fixed", "float"] if reader == "lava" else ["output"]
    for key in outputs:
        z = nengo.Lowpass(PROBE_SYNAPSE).filt(result[key], dt=dt, y0=0)
        name = reader if key == "output" else f"lava {key}"
        note = f"{seconds:.0f} s for all of {reader}"
        if key == "fixed":
            note = (
                f"vth 2**{int(result['fixed_threshold_bits'])} - 1, tau_syn "
                f"{float(result['fixed_tau_syn']):.4f} s, tau_mem "
                f"{float(result['fixed_tau_mem']):.4f} s; {note}"
            )
        rows.append((name, nrmse(z[s], exact_lagged), nrmse(z[s], y[s]), note))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--readers",
        nargs="+",
        choices=sorted(ENVIRONMENTS),
        default=sorted(ENVIRONMENTS),
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[1])
    args = parser.parse_args()
    print(f"{'seed':>4s}  {'simulator':22s} {'vs exact':>8s} {'vs Nengo':>8s}  note")
    with tempfile.TemporaryDirectory() as workdir:
        for reader in args.readers:
            venv, _, setup = ENVIRONMENTS[reader]
            if not os.path.exists(os.path.join(ROOT, venv, "bin", "python")):
                print(f"{reader}: no {venv}; create it with bash hardware/{setup}")
                continue
            for seed in args.seeds:
                for name, vs_exact, vs_nengo, note in compare(reader, seed, workdir):
                    print(
                        f"{seed:4d}  {name:22s} {vs_exact:8.3f} {vs_nengo:8.3f}  {note}"
                    )
                sys.stdout.flush()


if __name__ == "__main__":
    main()
