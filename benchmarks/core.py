"""Import time of nengo_lmu, and build/run time of LMUMemory beside a plain ensemble.

For m = 1,000 and 4,000 LIF neurons: ``LMUMemory(6, 1.0, m)`` (defaults) against a
plain ``nengo.Ensemble(m, 6)`` with one decoded connection (Nengo's default
solver), each built and run for 1 s at dt = 1 ms in the same process, best of
``--repeats``. Import time is measured in fresh interpreters (median of 5).

Usage::

    python benchmarks/core.py
"""

import argparse
import os
import statistics
import subprocess
import sys
import time


def import_time(module, repeats=5):
    code = (
        f"import time; t = time.perf_counter(); import {module}; "
        "print(time.perf_counter() - t)"
    )
    times = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        times.append(float(out.strip().splitlines()[-1]))
    return statistics.median(times)


def build_and_run(kind, m, seed=0):
    import nengo

    from nengo_lmu.networks import LMUMemory

    nengo.rc["decoder_cache"]["enabled"] = "False"  # measure the solve every time
    t0 = time.perf_counter()
    with nengo.Network(seed=seed) as net:
        u = nengo.Node(nengo.processes.WhiteSignal(10.0, high=1.0, rms=0.5, y0=0))
        if kind == "lmu":
            memory = LMUMemory(6, 1.0, m)
            nengo.Connection(u, memory.input, synapse=None)
            nengo.Probe(memory.output, synapse=0.01)
        else:
            ens = nengo.Ensemble(m, 6)
            nengo.Connection(u, ens[0], synapse=None)
            out = nengo.Node(size_in=6)
            nengo.Connection(ens, out, synapse=None)
            nengo.Probe(out, synapse=0.01)
    with nengo.Simulator(net, progress_bar=False) as sim:
        build = time.perf_counter() - t0
        t1 = time.perf_counter()
        sim.run(1.0)
        run = time.perf_counter() - t1
    return build, run


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--neurons", default="1000,4000")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    nengo_s = import_time("nengo")
    ours_s = import_time("nengo_lmu")
    print(
        f"import nengo: {nengo_s:.2f} s; import nengo_lmu: {ours_s:.2f} s "
        f"(ratio {ours_s / nengo_s:.2f}; nengo_lmu imports nengo, scipy, no TensorFlow)"
    )
    print(
        f"\n{'m':>6}  {'LMUMemory build s':>18}{'run s':>8}   "
        f"{'plain Ensemble build s':>23}{'run s':>8}   "
        f"{'build ratio':>11}{'run ratio':>10}"
    )
    for m in [int(x) for x in args.neurons.split(",")]:
        ours = min(build_and_run("lmu", m) for _ in range(args.repeats))
        plain = min(build_and_run("plain", m) for _ in range(args.repeats))
        print(
            f"{m:>6}  {ours[0]:>18.2f}{ours[1]:>8.2f}   "
            f"{plain[0]:>23.2f}{plain[1]:>8.2f}"
            f"   {ours[0] / plain[0]:>11.2f}{ours[1] / plain[1]:>10.2f}"
        )
    print(
        "\nratio = LMUMemory / plain nengo.Ensemble of the same size (< 1: faster). "
        "LMUMemory is order 6, per-dimension layout at these sizes (6 ensembles, a "
        "recurrent connection), the plain ensemble has no recurrence."
    )


if __name__ == "__main__":
    main()
