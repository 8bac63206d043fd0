"""Load MNIST exactly as ``keras.datasets.mnist.load_data()`` does, offline too.

Sources, in order:
1. the file named by the environment variable ``MNIST_NPZ``;
2. the Keras cache, ``$KERAS_HOME/datasets/mnist.npz`` (``~/.keras/datasets``);
3. Keras's own download.
A local file is read without pickle and each array is checked against the
SHA-256 of the real MNIST arrays, so a damaged copy fails loudly instead of
training a model on the wrong data.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

MnistSplits = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class ArraySpec(NamedTuple):
    shape: tuple[int, ...]
    dtype: str
    sha256: str  # of array.tobytes()


# Facts about the MNIST arrays that Keras serves: shape, dtype and SHA-256 of each array's bytes.
MNIST_ARRAYS: dict[str, ArraySpec] = {
    "x_train": ArraySpec(
        (60000, 28, 28), "uint8", "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757"
    ),
    "y_train": ArraySpec(
        (60000,), "uint8", "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13"
    ),
    "x_test": ArraySpec(
        (10000, 28, 28), "uint8", "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161"
    ),
    "y_test": ArraySpec(
        (10000,), "uint8", "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5"
    ),
}

FIX_HINT = (
    "Get a good copy of mnist.npz (the file keras.datasets.mnist.load_data() downloads) "
    "and point the environment variable MNIST_NPZ at it, or put it in the Keras cache "
    "at {cache}. A damaged file in that cache can be deleted: Keras downloads it again when online."
)


# Every zip archive, so every .npz file, starts with a local file header.
ZIP_START = b"PK\x03\x04"


class MnistDataError(RuntimeError):
    """MNIST could not be loaded; the message says what was wrong and how to fix it."""


def keras_cache_path() -> Path:
    """Where Keras keeps its downloaded copy: $KERAS_HOME/datasets/mnist.npz."""
    keras_home = os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")
    return Path(keras_home).expanduser() / "datasets" / "mnist.npz"


def _fail(problem: str) -> MnistDataError:
    return MnistDataError(f"{problem}\n{FIX_HINT.format(cache=keras_cache_path())}")


def array_sha256(array: np.ndarray) -> str:
    """SHA-256 of an array's bytes in C order, the checksum MNIST_ARRAYS lists."""
    return hashlib.sha256(memoryview(np.ascontiguousarray(array))).hexdigest()  # no copy of the bytes


def verify_arrays(arrays: dict[str, np.ndarray], source: str) -> None:
    """Raise MnistDataError unless every MNIST array has its known shape, dtype and checksum."""
    missing = [key for key in MNIST_ARRAYS if key not in arrays]
    if missing:
        raise _fail(f"{source} has no array named {', '.join(missing)}; found {sorted(arrays)}.")
    for key, spec in MNIST_ARRAYS.items():
        array = arrays[key]
        if not isinstance(array, np.ndarray):
            raise _fail(f"{source}: {key} is not a NumPy array; the file is not an MNIST archive.")
        if array.shape != spec.shape or array.dtype != np.dtype(spec.dtype):
            raise _fail(
                f"{source}: {key} has shape {array.shape} and dtype {array.dtype}; "
                f"MNIST's {key} has shape {spec.shape} and dtype {spec.dtype}."
            )
        if array_sha256(array) != spec.sha256:
            raise _fail(
                f"{source}: the values of {key} differ from MNIST's (SHA-256 mismatch); "
                "the file is corrupted or holds other data."
            )


def _require_zip_archive(path: Path) -> None:
    """Refuse a file that is not a zip archive (an .npz is one) before NumPy guesses it is a pickle."""
    with open(path, "rb") as file:
        start = file.read(len(ZIP_START))
    if start != ZIP_START:
        raise _fail(
            f"{path} cannot be read as an .npz file: it is not an MNIST archive "
            "(an .npz file is a zip archive, and this file does not start like one)."
        )


def _mentions_pickle(error: Exception) -> bool:
    return "pickle" in str(error).lower()


def _unreadable(path: Path, error: Exception) -> MnistDataError:
    """Say why NumPy could not read the archive, without ever suggesting to unpickle it."""
    if _mentions_pickle(error):
        return _fail(
            f"{path} cannot be read as MNIST: it holds Python objects instead of plain arrays, "
            "so it is not an MNIST archive (MNIST is four uint8 arrays)."
        )
    return _fail(
        f"{path} cannot be read as an .npz file ({type(error).__name__}: {error}); "
        "it is truncated or corrupted."
    )


def read_verified_npz(path: str | os.PathLike[str]) -> MnistSplits:
    """Read an mnist.npz file without pickle and return its verified arrays."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise _fail(f"There is no MNIST file at {path}.")
    try:
        _require_zip_archive(path)
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as error:
        # NumPy's own text for these suggests unpickling the file, which is unsafe: leave it out.
        raise _unreadable(path, error) from (None if _mentions_pickle(error) else error)
    verify_arrays(arrays, str(path))
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def find_local_copy() -> Path | None:
    """The file to read: MNIST_NPZ if set, else the Keras cache if present, else None."""
    named = os.environ.get("MNIST_NPZ")
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise _fail(f"MNIST_NPZ is set to {named!r}, but there is no file there.")
        return path
    cached = keras_cache_path()
    return cached if cached.is_file() else None


def load_mnist() -> MnistSplits:
    """Return ``(x_train, y_train), (x_test, y_test)`` as Keras's MNIST loader does.

    Raises MnistDataError, with the way to fix it, when no verified copy can be had.
    """
    local = find_local_copy()
    if local is not None:
        return read_verified_npz(local)
    from helpers._quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as error:  # no network, blocked host, partial download, bad hash
        raise _fail(
            "MNIST is not on this machine and Keras could not download it "
            f"({type(error).__name__}: {error}). MNIST_NPZ is not set and "
            f"{keras_cache_path()} does not exist."
        ) from error
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    verify_arrays(arrays, "Keras's download")
    return (x_train, y_train), (x_test, y_test)
