#!/usr/bin/env bash
# Every `nengo-lmu` subcommand, run from a folder outside the source tree, with
# whatever nengo-lmu the active environment has (CI: the installed wheel), on
# settings small enough for seconds each.
set -euo pipefail
out=${1:-$(mktemp -d)}
mkdir -p "$out"
cd "$out"
python - <<'PY'
import nengo_lmu, os
# the package must come from site-packages, not from a source checkout
assert "site-packages" in nengo_lmu.__file__, nengo_lmu.__file__
print("nengo_lmu", nengo_lmu.__version__, "from", os.path.dirname(nengo_lmu.__file__))
PY
run() { echo "+ nengo-lmu $*"; nengo-lmu "$@"; }
run --help > /dev/null
run scaling --orders 1 --neurons 100,300 --neuron-types poisson --seeds 2 \
  --duration 0.5 --workers 1 --no-progress --out scaling
test -s scaling/scaling.csv && test -s scaling/scaling.png
run export --format nir --order 2 --neurons 100 --out memory.nir
test -s memory.nir
run loihi --trials 2 --duration 0.5 --neurons 96 --variants standard
run train psmnist --dataset digits --epochs 1
run train capacity --lengths 100 --no-lstm --train-sequences 2 --test-sequences 1 \
  --duration 3 --quiet
run train mackey_glass --models lmu-parallel --series 4 --steps 60 --chunk 20 \
  --epochs 1 --batch-size 4 --quiet
run train spiking_digits --epochs 1 --units 16 --order 8 --holds 10 --test 50
echo "wheel: every subcommand ran"
