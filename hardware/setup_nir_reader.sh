#!/usr/bin/env bash
# Create .venv-nir: the project's Python plus two independent NIR readers, Norse and
# snnTorch, for the cross-simulator checks (tests/test_nir.py,
# hardware/nir_norse_run.py, hardware/nir_snntorch_run.py).
# It is a separate environment because torch needs typing-extensions >= 4.10 while
# TensorFlow 2.12 (nengo-dl) needs < 4.6. Versions verified here:
# torch 2.13.0 (CPU), nirtorch 2.6, norse 1.1.0 (no-deps: it declares torchvision,
# which only its MNIST tasks import), snntorch 1.0.0 (no-deps: it needs only torch,
# nir and nirtorch, installed above).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.venv-nir}
python -m venv --system-site-packages "$venv"
constraints=$(mktemp)
grep -v '^typing-extensions' constraints.txt > "$constraints"
"$venv/bin/python" -m pip install -q torch==2.13.0 -c "$constraints"
"$venv/bin/python" -m pip install -q nirtorch==2.6 -c "$constraints"
"$venv/bin/python" -m pip install -q --no-deps norse==1.1.0 snntorch==1.0.0
rm -f "$constraints"
"$venv/bin/python" -c "import numpy, torch, norse.torch, snntorch; print('NIR readers ready: numpy', numpy.__version__, 'torch', torch.__version__, 'norse', norse.__version__, 'snntorch', snntorch.__version__)"
