#!/usr/bin/env bash
# Create .venv-lava: Python 3.10 with Lava (Intel's Loihi 2 framework, lava-nc) and
# NIR, for hardware/nir_lava_run.py and its test (tests/test_nir.py).
# A separate environment because lava-nc 0.10.0 supports Python >= 3.10, < 3.11
# only (the project runs on 3.11) and numpy < 2. Everything comes from PyPI wheels.
# The Python 3.10 used: $LAVA_PYTHON, else python3.10 on PATH, else pyenv's 3.10.
# Versions verified here: lava-nc 0.10.0, nir 1.0.8, numpy 1.26.4, scipy 1.15.3.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.venv-lava}
python=
for candidate in "${LAVA_PYTHON:-}" python3.10 \
  "${PYENV_ROOT:-$HOME/.pyenv}/versions/3.10.13/bin/python3.10"; do
  # a pyenv shim may exist and still fail: check that it runs and is 3.10
  if [ -n "$candidate" ] && "$candidate" -c \
    'import sys; assert sys.version_info[:2] == (3, 10)' > /dev/null 2>&1; then
    python=$candidate
    break
  fi
done
if [ -z "$python" ]; then
  echo "no Python 3.10 found: set LAVA_PYTHON=/path/to/python3.10" >&2
  exit 1
fi
"$python" -m venv "$venv"
# the venv ignores itself (git), as Python 3.13's venv does
echo "*" > "$venv/.gitignore"
"$venv/bin/python" -m pip install -q --only-binary=:all: \
  lava-nc==0.10.0 nir==1.0.8 numpy==1.26.4 scipy==1.15.3 scikit-learn==1.6.1 \
  networkx==2.8.7 asteval==0.9.33 h5py==3.11.0
"$venv/bin/python" -c "import numpy, nir, lava; from lava.magma.core.run_configs import Loihi2SimCfg; print('Lava ready: numpy', numpy.__version__, 'lava-nc', __import__('importlib.metadata').metadata.version('lava-nc'), 'nir', nir.__version__)"
