"""Execute every notebook in notebooks/ and fail on the first cell that raises."""

import os
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(path.name for path in NOTEBOOK_DIR.glob("*.ipynb"))

# A tutorial that takes longer than this on a CI runner is too long anyway.
CELL_TIMEOUT_S = 600


@pytest.fixture(scope="module")
def kernel_name():
    """The ``python3`` kernel, installed for this user if no spec provides it."""
    pytest.importorskip("nbclient", reason="nbclient is needed to run notebooks")
    from jupyter_client.kernelspec import find_kernel_specs

    if "python3" not in find_kernel_specs():
        import ipykernel.kernelspec

        ipykernel.kernelspec.install(user=True)
    return "python3"


def test_notebooks_found():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name, kernel_name, monkeypatch):
    nbclient = pytest.importorskip("nbclient", reason="needs nbclient")
    import nbformat

    # The kernel inherits this environment: figures are drawn off screen.
    monkeypatch.setitem(os.environ, "MPLBACKEND", "Agg")
    notebook = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name=kernel_name,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    # A cell that raises raises nbclient.exceptions.CellExecutionError here, with
    # the cell's source and traceback in the message.
    client.execute()
