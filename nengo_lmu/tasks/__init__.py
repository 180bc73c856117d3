"""Training tasks for LMU networks in NengoDL: data, models, training with checkpoints.

This package holds what the tasks share, one module each:

- `nengo_lmu.tasks.data`: the data loaders (MNIST, its 5,000-digit sample,
  Fashion-MNIST, 8x8 digits), stratified splits, pixel sequences.
- `nengo_lmu.tasks.models`: the classifier (an LMUCell and a linear readout).
- `nengo_lmu.tasks.training`: the resumable `Trainer` and its checkpoints.
- `nengo_lmu.tasks.spiking`: a trained classifier rebuilt with spiking neurons.
- `nengo_lmu.tasks.inference`: a trained classifier's rate network in numpy, and
  its weights files.

Each task is a submodule with a ``main(argv)`` run by ``nengo-lmu train <task>``:

- `nengo_lmu.tasks.psmnist`: permuted sequential MNIST / Fashion-MNIST / 8x8 digits.
- `nengo_lmu.tasks.mackey_glass`: Mackey-Glass prediction (LMU, LSTM, hybrid).
- `nengo_lmu.tasks.capacity`: memory capacity against window length.
- `nengo_lmu.tasks.spiking_digits`: a trained classifier converted to spiking.

Data never comes from the network (see `nengo_lmu.tasks.data`). Importing this
package imports neither TensorFlow nor NengoDL; the training functions do.
"""

from nengo_lmu.tasks.data import (
    DATASETS,
    FASHION_MNIST_PATH,
    IDX_DTYPES,
    IDX_FILES,
    MISSING_MNIST,
    MNIST5K_SIZES,
    load_dataset,
    load_digits,
    load_fashion,
    load_idx_folder,
    load_mnist,
    load_mnist5k,
    permuted_sequences,
    read_idx,
    stratified_split,
    write_idx,
)
from nengo_lmu.tasks.inference import (
    final_memory_states,
    load_weights,
    rate_logits,
    save_weights,
    state_logits,
)
from nengo_lmu.tasks.models import build_classifier
from nengo_lmu.tasks.spiking import (
    ONE_STEP,
    WindowSample,
    batched_spiking_logits,
    initial_voltages,
    spiking_accuracy,
    spiking_classifier,
)
from nengo_lmu.tasks.training import (
    Trainer,
    epoch_order,
    load_checkpoint,
    restore_training_arrays,
    save_checkpoint,
    training_arrays,
)

__all__ = [
    "DATASETS",
    "FASHION_MNIST_PATH",
    "IDX_DTYPES",
    "IDX_FILES",
    "MISSING_MNIST",
    "MNIST5K_SIZES",
    "ONE_STEP",
    "Trainer",
    "WindowSample",
    "batched_spiking_logits",
    "build_classifier",
    "epoch_order",
    "initial_voltages",
    "load_checkpoint",
    "load_dataset",
    "load_digits",
    "final_memory_states",
    "load_fashion",
    "load_idx_folder",
    "load_mnist",
    "load_mnist5k",
    "load_weights",
    "permuted_sequences",
    "rate_logits",
    "read_idx",
    "restore_training_arrays",
    "save_checkpoint",
    "save_weights",
    "state_logits",
    "spiking_accuracy",
    "spiking_classifier",
    "stratified_split",
    "training_arrays",
    "write_idx",
]
