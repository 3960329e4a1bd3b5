"""Small real datasets that never touch the network.

``digits`` is scikit-learn's bundled 8×8 digits; ``mnist1d`` is generated locally by the
``mnist1d`` package (its ``make_dataset``; its ``get_dataset`` downloads and is never
called). ``mnist`` and ``cifar10`` read standard files from a local directory and fail with
a clear message when they are absent: gdlab downloads nothing at run time.
"""

from __future__ import annotations

import functools
import gzip
import os
import pickle
from pathlib import Path

import numpy as np
import torch

from gdlab.data.dataset import Dataset, default_dtype


def _subset(x: np.ndarray, y: np.ndarray, n: int | None, classes, rng: np.random.Generator):
    if classes is not None:
        keep = np.isin(y, list(classes))
        x, y = x[keep], y[keep]
        remap = {c: i for i, c in enumerate(sorted(classes))}
        y = np.array([remap[int(c)] for c in y])
    idx = rng.permutation(len(y))
    if n is not None:
        if n > len(y):
            raise ValueError(f"asked for {n} points, only {len(y)} available")
        idx = idx[:n]
    return x[idx], y[idx]


def _finish(x_tr, y_tr, x_te, y_te, standardize: bool, dtype, meta) -> Dataset:
    x_tr, x_te = x_tr.astype(np.float64), x_te.astype(np.float64)
    if standardize:
        mu, sd = x_tr.mean(0), x_tr.std(0) + 1e-8
        x_tr, x_te = (x_tr - mu) / sd, (x_te - mu) / sd
    dt = default_dtype(dtype)
    return Dataset(torch.as_tensor(x_tr, dtype=dt), torch.as_tensor(y_tr, dtype=torch.long),
                   torch.as_tensor(x_te, dtype=dt), torch.as_tensor(y_te, dtype=torch.long), meta)


def digits(
    n_train: int | None = 1000,
    n_test: int | None = None,
    *,
    classes=None,
    standardize: bool = True,
    seed: int = 0,
    dtype: torch.dtype | None = None,
) -> Dataset:
    """scikit-learn's 8×8 digits (1797 images, 64 features, 10 classes), shuffled by ``seed``.

    Args:
        n_train: training points (default 1000); the rest (or ``n_test`` of them) are test.
        classes: keep only these labels, relabelled ``0..K−1``.
        standardize: z-score features with training statistics.
    """
    from sklearn.datasets import load_digits

    data = load_digits()
    rng = np.random.default_rng(seed)
    x, y = _subset(data.data, data.target, None, classes, rng)
    if n_train is None or n_train >= len(y):
        raise ValueError(f"n_train must be < {len(y)} to leave test points")
    n_te = len(y) - n_train if n_test is None else n_test
    if n_train + n_te > len(y):
        raise ValueError(f"n_train + n_test = {n_train + n_te} exceeds {len(y)} points")
    return _finish(x[:n_train], y[:n_train], x[n_train:n_train + n_te], y[n_train:n_train + n_te],
                   standardize, dtype, {"name": "digits", "classes": classes})


def mnist1d(
    n_train: int | None = 4000,
    n_test: int | None = 1000,
    *,
    classes=None,
    standardize: bool = True,
    seed: int = 0,
    dtype: torch.dtype | None = None,
) -> Dataset:
    """MNIST-1D (Greydanus 2020): 40-dim 1-D signals of 10 digit templates, made locally.

    Uses the package's default generator arguments with ``seed`` (5000 examples: 4000 train,
    1000 test), then subsets.
    """
    data = _mnist1d_raw(seed)
    rng = np.random.default_rng(seed)
    x_tr, y_tr = _subset(np.asarray(data["x"]), np.asarray(data["y"]), n_train, classes, rng)
    x_te, y_te = _subset(np.asarray(data["x_test"]), np.asarray(data["y_test"]), n_test, classes, rng)
    return _finish(x_tr, y_tr, x_te, y_te, standardize, dtype, {"name": "mnist1d", "classes": classes})


@functools.lru_cache(maxsize=4)
def _mnist1d_raw(seed: int) -> dict:
    """The package's generator output for ``seed`` (a few seconds to make; cached per process)."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed = seed
    data = make_dataset(args)
    return {k: np.asarray(data[k]) for k in ("x", "y", "x_test", "y_test")}


def _require_dir(path: str | os.PathLike | None, name: str, env: str, expected: str) -> Path:
    given = str(path or os.environ.get(env, ""))
    root = Path(given).expanduser()
    if not given or not root.is_dir():
        where = f"at {root}" if given else "(no path given)"
        raise FileNotFoundError(
            f"{name} not found {where}. gdlab never downloads data: "
            f"place {expected} in a directory and pass its path (or set ${env})."
        )
    return root


def mnist(path: str | os.PathLike | None = None, *, n_train: int | None = None,
          n_test: int | None = None, seed: int = 0, dtype=None) -> Dataset:
    """MNIST from local IDX files (``train-images-idx3-ubyte[.gz]`` etc.) in ``path``."""
    root = _require_dir(path, "MNIST", "GDLAB_MNIST",
                        "train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), "
                        "t10k-images-idx3-ubyte(.gz), t10k-labels-idx1-ubyte(.gz)")

    def read(stem: str, offset: int) -> np.ndarray:
        for cand in (root / stem, root / f"{stem}.gz", root / "MNIST" / "raw" / stem):
            if cand.exists():
                raw = gzip.open(cand).read() if cand.suffix == ".gz" else cand.read_bytes()
                return np.frombuffer(raw, dtype=np.uint8, offset=offset)
        raise FileNotFoundError(f"MNIST file {stem} missing in {root}")

    x_tr = read("train-images-idx3-ubyte", 16).reshape(-1, 784) / 255.0
    y_tr = read("train-labels-idx1-ubyte", 8).astype(np.int64)
    x_te = read("t10k-images-idx3-ubyte", 16).reshape(-1, 784) / 255.0
    y_te = read("t10k-labels-idx1-ubyte", 8).astype(np.int64)
    rng = np.random.default_rng(seed)
    x_tr, y_tr = _subset(x_tr, y_tr, n_train, None, rng)
    x_te, y_te = _subset(x_te, y_te, n_test, None, rng)
    return _finish(x_tr, y_tr, x_te, y_te, False, dtype, {"name": "mnist"})


def cifar10(path: str | os.PathLike | None = None, *, n_train: int | None = None,
            n_test: int | None = None, seed: int = 0, dtype=None) -> Dataset:
    """CIFAR-10 from the local python batches (``data_batch_1..5``, ``test_batch``) in ``path``.

    Images come as ``(n, 3·32·32)`` floats in ``[0, 1]``.
    """
    root = _require_dir(path, "CIFAR-10", "GDLAB_CIFAR10",
                        "the python version's data_batch_1..5 and test_batch")
    if (root / "cifar-10-batches-py").is_dir():
        root = root / "cifar-10-batches-py"

    def load(name: str):
        f = root / name
        if not f.exists():
            raise FileNotFoundError(f"CIFAR-10 file {name} missing in {root}")
        with open(f, "rb") as fh:
            d = pickle.load(fh, encoding="bytes")
        return np.asarray(d[b"data"], dtype=np.float64) / 255.0, np.asarray(d[b"labels"])

    parts = [load(f"data_batch_{i}") for i in range(1, 6)]
    x_tr, y_tr = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    x_te, y_te = load("test_batch")
    rng = np.random.default_rng(seed)
    x_tr, y_tr = _subset(x_tr, y_tr, n_train, None, rng)
    x_te, y_te = _subset(x_te, y_te, n_test, None, rng)
    return _finish(x_tr, y_tr, x_te, y_te, False, dtype, {"name": "cifar10"})
