"""The training curves of the committed full-MNIST psMNIST runs, as one figure.

Reads each run folder under benchmarks/results/psmnist/ (``results.json`` of a
finished run, else the checkpoint's ``state.json``) and plots the training and
validation accuracy per epoch, with the test accuracy of finished runs, the
published figures as reference lines and the paper's own validation curve
(`PAPER_VALIDATION`). Writes
benchmarks/results/psmnist/training.png.

Usage::

    python benchmarks/psmnist_curves.py
"""

import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))
FOLDER = os.path.join(HERE, "results", "psmnist")


def results_pages():
    """docs/results_pages.py: the runs (`PSMNIST_RUNS`) and their reader, shared
    with the results page's tables."""
    path = os.path.join(HERE, os.pardir, "docs", "results_pages.py")
    spec = importlib.util.spec_from_file_location("results_pages", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pages = results_pages()
    fig, ax = plt.subplots(figsize=(10, 5))
    paper = pages.PAPER_VALIDATION
    ax.plot(
        range(1, len(paper) + 1),
        [100 * a for a in paper],
        "s:",
        color="0.5",
        label="the paper's own run: validation",
    )
    published_drawn = set()
    for i, (name, (_, published, _, _)) in enumerate(pages.PSMNIST_RUNS.items()):
        run = pages.psmnist_run(os.path.join(FOLDER, name))
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
            label=f"{name}: training",
        )
        ax.plot(
            epochs,
            [100 * h.get("val_accuracy", float("nan")) for h in history],
            "o-",
            color=color,
            label=f"{name}: validation",
        )
        if "test_accuracy" in run:
            ax.axhline(
                100 * run["test_accuracy"],
                color=color,
                lw=0.8,
                label=f"{name}: test {100 * run['test_accuracy']:.2f} %",
            )
        if published not in published_drawn:  # runs of one model share it
            published_drawn.add(published)
            ax.axhline(
                100 * published,
                color=color,
                ls=":",
                lw=0.8,
                label=f"published {100 * published:.2f} %",
            )
    ax.set_xlabel("epoch (50,000 training digits)")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(top=100)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title("psMNIST on the full MNIST, NengoDL (validation: 10,000 held out)")
    fig.tight_layout()
    path = os.path.join(FOLDER, "training.png")
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
