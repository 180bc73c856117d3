"""Checkpoints that explain themselves and survive a kill during the save."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from nengo_lmu.tasks.training import (
    CheckpointError,
    load_checkpoint,
    restore_training_arrays,
    save_checkpoint,
)

WEIGHTS = [np.arange(6.0).reshape(2, 3), np.ones(3)]


def saved(tmp_path, epochs=1):
    folder = str(tmp_path / "ckpt")
    for epoch in range(1, epochs + 1):
        save_checkpoint(folder, [w * epoch for w in WEIGHTS], {"epochs_done": epoch})
    return folder


def test_round_trip_keeps_one_weights_file(tmp_path):
    folder = saved(tmp_path, epochs=3)
    weights, state = load_checkpoint(folder)
    assert state == {"epochs_done": 3}
    for w, ref in zip(weights, WEIGHTS):
        assert np.array_equal(w, 3 * ref)
    assert sorted(os.listdir(folder)) == ["state.json", "weights-000002.npz"]
    assert load_checkpoint(str(tmp_path / "absent")) is None


def test_older_checkpoint_layout_still_loads(tmp_path):
    """Checkpoints written before the weights file was named in state.json."""
    folder = tmp_path / "old"
    folder.mkdir()
    np.savez(folder / "weights.npz", w0=WEIGHTS[0], w1=WEIGHTS[1])
    (folder / "state.json").write_text(json.dumps({"epochs_done": 4}))
    weights, state = load_checkpoint(str(folder))
    assert state == {"epochs_done": 4} and np.array_equal(weights[1], WEIGHTS[1])


def test_weights_not_a_zip_file(tmp_path):
    folder = saved(tmp_path)
    name = json.loads(open(os.path.join(folder, "state.json")).read())["weights"]
    with open(os.path.join(folder, name), "wb") as f:
        f.write(b"this is not a zip file")
    with pytest.raises(
        CheckpointError, match=r"weights-000000\.npz: not a readable npz"
    ):
        load_checkpoint(folder)
    with pytest.raises(CheckpointError, match="Delete the folder"):
        load_checkpoint(folder)


def test_broken_state_json(tmp_path):
    folder = saved(tmp_path)
    with open(os.path.join(folder, "state.json"), "w") as f:
        f.write('{"epochs_done": ')
    with pytest.raises(CheckpointError, match=r"state\.json: this checkpoint state is"):
        load_checkpoint(folder)


def test_missing_weights_file_and_missing_arrays(tmp_path):
    folder = saved(tmp_path)
    name = json.loads(open(os.path.join(folder, "state.json")).read())["weights"]
    os.remove(os.path.join(folder, name))
    with pytest.raises(CheckpointError, match="names is missing"):
        load_checkpoint(folder)
    np.savez(os.path.join(folder, name), w0=WEIGHTS[0], w2=WEIGHTS[1])
    with pytest.raises(CheckpointError, match=r"arrays \['w1'\] are missing"):
        load_checkpoint(folder)


class FakeModel:
    """The two methods of a Keras model that restore_training_arrays uses."""

    def __init__(self, shapes):
        self.weights = [np.zeros(s) for s in shapes]

    def get_weights(self):
        return self.weights

    def set_weights(self, arrays):
        self.weights = list(arrays)


def test_arrays_of_the_wrong_shape_for_the_model(tmp_path):
    folder = saved(tmp_path)
    weights, _ = load_checkpoint(folder)
    model = FakeModel([(2, 3), (3,)])
    restore_training_arrays(model, None, weights, folder)
    assert np.array_equal(model.weights[0], WEIGHTS[0])
    with pytest.raises(CheckpointError, match=r"ckpt: its weights do not fit this"):
        restore_training_arrays(FakeModel([(4, 3), (3,)]), None, weights, folder)


def test_kill_during_save_leaves_the_previous_checkpoint(tmp_path):
    """A process killed in the middle of writing the next checkpoint's weights
    (between two partial writes): the previous checkpoint loads, whole."""
    folder = saved(tmp_path, epochs=1)
    script = tmp_path / "child.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, time
            import numpy as np
            sys.path.insert(0, {os.getcwd()!r})
            import nengo_lmu.tasks.training as training
            real_savez = np.savez
            def slow_savez(f, **arrays):
                f.write(b"PK partial")
                f.flush()
                print("half", flush=True)
                time.sleep(60)
                real_savez(f, **arrays)
            training.np.savez = slow_savez
            training.save_checkpoint({folder!r}, [np.zeros(2)], {{"epochs_done": 2}})
            """
        )
    )
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE)
    assert child.stdout.readline().strip() == b"half"
    child.send_signal(signal.SIGKILL)
    child.wait()
    weights, state = load_checkpoint(folder)
    assert state == {"epochs_done": 1}
    assert np.array_equal(weights[0], WEIGHTS[0])
    # the next save cleans up what the killed one left
    save_checkpoint(folder, WEIGHTS, {"epochs_done": 2})
    assert sorted(os.listdir(folder)) == ["state.json", "weights-000001.npz"]
