"""The training curves of the committed full-MNIST psMNIST runs, as one figure.

Reads each run folder under benchmarks/results/psmnist/ (``results.json`` of a
finished run, else the checkpoint's ``state.json``) and plots the training and
validation accuracy per epoch, with the test accuracy of finished runs and the
published figures as reference lines. Writes
benchmarks/results/psmnist/training.png.

Usage::

    python benchmarks/psmnist_curves.py
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
FOLDER = os.path.join(HERE, "results", "psmnist")
RUNS = {
    "paper": ("paper's model (212 tanh units, recurrent)", 0.9715),
    "variant": ("spiking-friendly (346 ReLU units, feed-forward)", 0.9849),
}


def read_run(folder):
    for name in ("results.json", "state.json"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                return json.load(f)
    return None


def main():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for i, (name, (label, published)) in enumerate(RUNS.items()):
        run = read_run(os.path.join(FOLDER, name))
        if run is None:
            continue
        color = f"C{i}"
        history = run["history"]
        epochs = range(1, len(history) + 1)
        ax.plot(
            epochs,
            [100 * h["probe_accuracy"] for h in history],
            "--",
            color=color,
            label=f"{label}: training",
        )
        ax.plot(
            epochs,
            [100 * h.get("val_accuracy", float("nan")) for h in history],
            "o-",
            color=color,
            label=f"{label}: validation",
        )
        if "test_accuracy" in run:
            ax.axhline(
                100 * run["test_accuracy"],
                color=color,
                lw=0.8,
                label=f"test {100 * run['test_accuracy']:.2f} %",
            )
        ax.axhline(
            100 * published,
            color=color,
            ls=":",
            lw=0.8,
            label=f"published {100 * published:.2f} %",
        )
    ax.set_xlabel("epoch (50,000 training digits)")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(90, 100)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("psMNIST on the full MNIST, NengoDL (validation: 10,000 held out)")
    fig.tight_layout()
    path = os.path.join(FOLDER, "training.png")
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
