"""Execute every notebook in notebooks/ and fail on the first cell that raises."""

import importlib.util
import json
import re
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(path.name for path in NOTEBOOK_DIR.glob("*.ipynb"))

# Seconds per cell (nbclient's timeout): the tutorials take seconds in all, so only
# a hung kernel reaches it.
CELL_TIMEOUT_S = 600
NEEDS_NBCLIENT = "nbclient is needed to execute the notebooks"
# Packages of the optional extras (dl, loihi, nir); a notebook importing one is
# skipped, with its name, where it is not installed (the core-only environment).
OPTIONAL = ("nengo_dl", "tensorflow", "nengo_loihi", "nir", "keras_lmu")


def missing_packages(path):
    """The optional packages that the notebook's code cells import and that are not
    installed here."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    imported = {
        name.split(".")[0]
        for name in re.findall(r"^\s*(?:import|from)\s+([\w.]+)", code, re.M)
    }
    return sorted(
        name
        for name in imported & set(OPTIONAL)
        if importlib.util.find_spec(name) is None
    )


@pytest.fixture(scope="module")
def kernel_name():
    """The ``python3`` kernel, installed for this user if no spec provides it."""
    pytest.importorskip("nbclient", reason=NEEDS_NBCLIENT)
    from jupyter_client.kernelspec import find_kernel_specs

    if "python3" not in find_kernel_specs():
        import ipykernel.kernelspec

        ipykernel.kernelspec.install(user=True)
    return "python3"


def test_notebooks_found():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name, kernel_name, monkeypatch):
    nbclient = pytest.importorskip("nbclient", reason=NEEDS_NBCLIENT)
    missing = missing_packages(NOTEBOOK_DIR / name)
    if missing:
        pytest.skip(f"{name} imports {', '.join(missing)}, not installed")
    import nbformat

    # The kernel inherits this environment: figures are drawn off screen.
    monkeypatch.setenv("MPLBACKEND", "Agg")
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
