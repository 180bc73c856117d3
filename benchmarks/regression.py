"""Regression check for a redesign: the same outputs before and after.

``record`` runs, in the checkout it is started from (``--tree`` for another):

- the README example (10 s of the 3000-neuron LIF memory and its readouts);
- a fingerprint of the public systems API (matrices, readouts, realizations,
  discretization, responses, Gramians, radii, Principle 3 mapping);
- small networks in every layout and neuron type (probes of 0.3 s);
- the default ``nengo-lmu scaling`` run (CSV and the printed slopes);
- every committed scaling figure re-drawn from its committed CSV (pixels).

``compare BEFORE AFTER`` checks two records: arrays bit-identical or, where a
reordering of floating-point sums changes the last bits, equal to 1e-12
(absolute plus relative); slopes identical to 3 decimals; figure pixels identical.
``speed TREE_A TREE_B`` times ``benchmarks/fast_step.py --one ours 1000000`` from
both trees alternately (3 rounds each, same run) and prints the ratio of medians
(target: within 10 %).

Usage::

    python benchmarks/regression.py record OUT [--tree DIR] [--skip-scaling]
    python benchmarks/regression.py compare BEFORE AFTER
    python benchmarks/regression.py speed TREE_A TREE_B [--rounds 3]
"""

import argparse
import csv
import hashlib
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIGURES = ("default", "paper", "thesis", "memory", "large")


def readme_example():
    import nengo
    import numpy as np

    import nengo_lmu
    from nengo_lmu.networks import LMUMemory

    with nengo.Network(seed=0) as net:
        u = nengo.Node(nengo.processes.WhiteSignal(10.0, high=1.0, rms=0.5, y0=0))
        exact = nengo.Node(nengo_lmu.LegendreMemory(order=6, theta=1.0), size_in=1)
        nengo.Connection(u, exact, synapse=None)
        memory = LMUMemory(order=6, theta=1.0, n_neurons=3000)
        nengo.Connection(u, memory.input, synapse=None)
        half = memory.add_readout(0.5)
        mean = memory.add_readout(np.mean)
        p = nengo.Probe(memory.output, synapse=0.01)
        ph = nengo.Probe(half, synapse=0.01)
        pm = nengo.Probe(mean, synapse=0.01)
        pe = nengo.Probe(exact, synapse=None)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run(10.0)
    return {
        "readme/memory": sim.data[p],
        "readme/half": sim.data[ph],
        "readme/mean": sim.data[pm],
        "readme/exact": sim.data[pe],
    }


def systems_fingerprint():
    import nengo
    import numpy as np

    import nengo_lmu
    from nengo_lmu import LegendreDelay, LinearSystem, PadeDelay
    from nengo_lmu.mapping import principle3

    out = {}
    mem = nengo_lmu.LegendreMemory(order=6, theta=1.0)
    out["lm/A"], out["lm/B"] = np.asarray(mem.A), np.asarray(mem.B)
    for method in ("zoh", "euler"):
        Ad, Bd = mem.discretize(0.001, method=method)[:2]
        out[f"lm/{method}/Ad"], out[f"lm/{method}/Bd"] = Ad, Bd
    for r in (0.0, 0.25, 0.5, 1.0):
        out[f"readout/{r}"] = np.asarray(nengo_lmu.legendre_readout(6, r))
    out["window/mean"] = np.asarray(nengo_lmu.window_readout(6, np.mean))
    for kind in ("legendre", "balanced", "scaled", "pade"):
        real = nengo_lmu.realize(6, 1.0, kind)
        for name in ("A", "B", "C", "D"):
            value = getattr(real, name, None)
            if value is not None:
                out[f"realize/{kind}/{name}"] = np.asarray(value, dtype=float)
    for name, sys_ in {
        "legendre": LegendreDelay(0.1, 6),
        "pade": PadeDelay(0.1, 4),
        "pade43": PadeDelay(0.1, 4, 3),
        "lowpass": LinearSystem(([1], [0.1, 1])),
    }.items():
        A, B, C, D = sys_.ss
        out[f"sys/{name}/ss"] = np.concatenate(
            [np.ravel(A), np.ravel(B), np.ravel(C), np.ravel(D)]
        )
        dsys = sys_.discretize(0.001)
        out[f"sys/{name}/dss"] = np.concatenate([np.ravel(m) for m in dsys.ss])
        out[f"sys/{name}/impulse"] = np.asarray(sys_.impulse(200, dt=0.001))
        u = np.sin(np.linspace(0, 20, 500))[:, None]
        out[f"sys/{name}/filter"] = np.asarray(sys_.filter(u, dt=0.001))
        if len(A):
            out[f"sys/{name}/hsv"] = np.asarray(sys_.hankel_singular_values())
            bal = sys_.balanced()
            out[f"sys/{name}/balanced"] = np.asarray(bal.impulse(200, dt=0.001))
            for mapping in ("discrete", "continuous"):
                AH, BH = principle3(A, B, nengo.Lowpass(0.05), mapping, 0.001)[:2]
                out[f"p3/{name}/{mapping}"] = np.concatenate(
                    [np.ravel(AH), np.ravel(BH)]
                )
    return out


def networks_fingerprint():
    import nengo
    import numpy as np

    from nengo_lmu import PadeDelay
    from nengo_lmu.networks import LinearNetwork, LMUMemory

    out = {}
    types = {
        "lif": nengo.LIF(),
        "poisson": nengo.PoissonSpiking(nengo.LIFRate()),
        "relu": nengo.SpikingRectifiedLinear(),
    }
    cases = []
    for tname, ntype in types.items():
        for layout, n in (("per-dimension", 600), ("subpopulations", 2400)):
            cases.append((f"mem/{tname}/{layout}", ntype, layout, n))
    for key, ntype, layout, n in cases:
        with nengo.Network(seed=1) as net:
            u = nengo.Node(nengo.processes.WhiteSignal(1.0, high=3.0, rms=0.4, y0=0))
            memory = LMUMemory(3, 0.2, n, neuron_type=ntype, layout=layout)
            nengo.Connection(u, memory.input, synapse=None)
            p = nengo.Probe(memory.output, synapse=0.01)
        with nengo.Simulator(net, progress_bar=False) as sim:
            sim.run(0.3)
        out[key] = sim.data[p]
    with nengo.Network(seed=2) as net:
        u = nengo.Node(nengo.processes.WhiteSignal(1.0, high=3.0, rms=0.4, y0=0))
        lin = LinearNetwork(PadeDelay(0.1, 3), 600)
        nengo.Connection(u, lin.input, synapse=None)
        p = nengo.Probe(lin.output, synapse=0.01)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run(0.3)
    out["linear/pade"] = sim.data[p]
    return {k: np.asarray(v) for k, v in out.items()}


def figure_pixels(out_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.image

    from nengo_lmu.analysis.summary import plot_scaling
    from nengo_lmu.analysis.sweeps import read_results

    hashes = {}
    for name in FIGURES:
        path = HERE / "results" / name / "scaling.csv"
        rows = read_results(path)
        stem = out_dir / f"figure-{name}"
        plot_scaling(rows, str(stem))
        pixels = matplotlib.image.imread(f"{stem}.png")
        hashes[name] = hashlib.sha256(pixels.tobytes()).hexdigest()
    return hashes


def record(args):
    import numpy as np

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    tree = Path(args.tree).resolve()
    sys.path.insert(0, str(tree))
    os.chdir(tree)
    import nengo_lmu

    assert Path(nengo_lmu.__file__).resolve().is_relative_to(tree), nengo_lmu.__file__
    arrays = {}
    for part in (readme_example, systems_fingerprint, networks_fingerprint):
        print(f"recording {part.__name__}", flush=True)
        arrays.update(part())
    np.savez(out / "arrays.npz", **arrays)
    (out / "figures.json").write_text(json.dumps(figure_pixels(out), indent=1))
    if not args.skip_scaling:
        print("recording the default nengo-lmu scaling run", flush=True)
        env = dict(os.environ, PYTHONPATH=str(tree), MPLBACKEND="Agg")
        proc = subprocess.run(
            [sys.executable, "-m", "nengo_lmu.cli", "scaling", "--no-progress"]
            + ["--out", str(out / "scaling")],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        (out / "scaling.txt").write_text(proc.stdout)
    print(f"recorded in {out}")


def _slopes(text):
    """The rows of the printed slope table (not the paths, the wall time or the
    peak memory, which is the process's, not a result)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("experiment"))
    rows = [line for line in lines[start:] if line.strip() and "runs in" not in line]
    peak = rows[0].find("peak GB")
    return [row[:peak].rstrip() if peak >= 0 else row for row in rows]


def compare(args):
    import numpy as np

    a, b = Path(args.before), Path(args.after)
    fails = 0
    with np.load(a / "arrays.npz") as x, np.load(b / "arrays.npz") as y:
        for key in sorted(set(x) | set(y)):
            if key not in x or key not in y:
                print(f"MISSING {key}")
                fails += 1
                continue
            u, v = x[key], y[key]
            if u.shape != v.shape:
                print(f"SHAPE   {key}: {u.shape} vs {v.shape}")
                fails += 1
            elif np.array_equal(u, v):
                print(f"same    {key}")
            elif np.allclose(u, v, atol=1e-12, rtol=1e-12):
                print(f"1e-12   {key}: max diff {np.max(np.abs(u - v)):.2e}")
            else:
                print(f"DIFFER  {key}: max diff {np.max(np.abs(u - v)):.3e}")
                fails += 1
    fa = json.loads((a / "figures.json").read_text())
    fb = json.loads((b / "figures.json").read_text())
    for name in FIGURES:
        same = fa.get(name) == fb.get(name)
        fails += not same
        print(f"{'same' if same else 'DIFFER':<7} figure {name}")
    if (a / "scaling").exists() and (b / "scaling").exists():
        ra = list(csv.DictReader(open(a / "scaling" / "scaling.csv")))
        rb = list(csv.DictReader(open(b / "scaling" / "scaling.csv")))

        def key(r):
            return r["neuron_type"], int(r["order"]), int(r["n_neurons"]), r["seed"]

        ea = {key(r): float(r["nrmse"]) for r in ra}
        eb = {key(r): float(r["nrmse"]) for r in rb}
        same = sum(ea[k] == eb.get(k) for k in ea)
        close = sum(abs(ea[k] - eb.get(k, np.inf)) <= 1e-12 * (1 + ea[k]) for k in ea)
        print(
            f"scaling: {len(ea)} vs {len(eb)} rows; {same} identical, {close} to 1e-12"
        )
        fails += close != len(ea) or len(ea) != len(eb)
        sa = _slopes((a / "scaling.txt").read_text())
        sb = _slopes((b / "scaling.txt").read_text())
        print("slopes identical" if sa == sb else f"SLOPES DIFFER:\n{sa}\n{sb}")
        fails += sa != sb
    print(f"{fails} difference(s)")
    return 1 if fails else 0


def speed(args):
    times = {args.tree_a: [], args.tree_b: []}
    for _ in range(args.rounds):
        for tree in times:
            env = dict(os.environ, PYTHONPATH=str(Path(tree).resolve()))
            proc = subprocess.run(
                [sys.executable, str(Path(tree) / "benchmarks" / "fast_step.py")]
                + ["--one", "ours", str(args.neurons)],
                capture_output=True,
                text=True,
                env=env,
                cwd=Path(tree) / "benchmarks",
                check=True,
            )
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            times[tree].append(result["run_s"])
            print(
                f"{tree}: run {result['run_s']:.3f} s, build {result['build_s']:.2f} s"
            )
    ma, mb = (statistics.median(t) for t in times.values())
    print(f"median run: {ma:.3f} s vs {mb:.3f} s; ratio {mb / ma:.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("record")
    r.add_argument("out")
    r.add_argument("--tree", default=str(HERE.parent))
    r.add_argument("--skip-scaling", action="store_true")
    c = sub.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    s = sub.add_parser("speed")
    s.add_argument("tree_a")
    s.add_argument("tree_b")
    s.add_argument("--rounds", type=int, default=3)
    s.add_argument("--neurons", type=int, default=1_000_000)
    args = parser.parse_args()
    return {"record": record, "compare": compare, "speed": speed}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
