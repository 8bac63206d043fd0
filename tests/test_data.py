"""The MNIST loader: real data offline, and a clear error for every kind of bad file."""

from __future__ import annotations

import os
import pickle
import random
import traceback
import zipfile

import keras
import numpy as np
import pytest

from helpers import data
from helpers.data import MnistDataError, load_mnist


def test_loads_real_mnist_with_keras_layout():
    (x_train, y_train), (x_test, y_test) = load_mnist()
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.uint8
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9]
    assert y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    pixels = x_train / 255.0
    assert pixels.mean() == pytest.approx(0.1307, abs=5e-5)
    assert pixels.std() == pytest.approx(0.3081, abs=5e-5)


def test_mnist_npz_wins_over_keras_cache(monkeypatch, tmp_path, real_npz_path):
    monkeypatch.setenv("MNIST_NPZ", str(real_npz_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras-home"))
    assert data.find_local_copy() == real_npz_path


def test_reads_keras_cache_when_mnist_npz_is_unset(monkeypatch, tmp_path, real_npz_path):
    cache = tmp_path / "keras" / "datasets"
    cache.mkdir(parents=True)
    (cache / "mnist.npz").symlink_to(real_npz_path)
    monkeypatch.delenv("MNIST_NPZ", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert data.find_local_copy() == cache / "mnist.npz"
    (x_train, _), (_, y_test) = load_mnist()
    assert x_train.shape == (60000, 28, 28) and y_test[:3].tolist() == [7, 2, 1]


def test_falls_back_to_keras_download(monkeypatch, tmp_path, real_arrays):
    monkeypatch.delenv("MNIST_NPZ", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    calls = []

    def fake_download():
        calls.append(True)
        a = real_arrays
        return (a["x_train"], a["y_train"]), (a["x_test"], a["y_test"])

    monkeypatch.setattr(keras.datasets.mnist, "load_data", fake_download)
    (x_train, _), _ = load_mnist()
    assert calls and x_train.shape == (60000, 28, 28)


def test_no_file_and_no_network_names_both_fixes(monkeypatch, tmp_path):
    monkeypatch.delenv("MNIST_NPZ", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def offline():
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: [Errno -3]")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(MnistDataError) as error:
        load_mnist()
    message = str(error.value)
    assert "could not download" in message and "URL fetch failure" in message
    assert "MNIST_NPZ" in message
    assert str(tmp_path / "datasets" / "mnist.npz") in message


def test_a_bad_download_is_rejected(monkeypatch, tmp_path, real_arrays):
    monkeypatch.delenv("MNIST_NPZ", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    a = real_arrays
    monkeypatch.setattr(
        keras.datasets.mnist,
        "load_data",
        lambda: ((a["x_train"], a["y_train"]), (a["x_test"][:10], a["y_test"])),
    )
    with pytest.raises(MnistDataError, match="x_test has shape"):
        load_mnist()


def test_missing_path_in_mnist_npz(monkeypatch, tmp_path):
    missing = tmp_path / "nowhere" / "mnist.npz"
    monkeypatch.setenv("MNIST_NPZ", str(missing))
    with pytest.raises(MnistDataError, match="MNIST_NPZ is set to .*no file there"):
        load_mnist()


def _use(monkeypatch, path):
    monkeypatch.setenv("MNIST_NPZ", str(path))
    return path


def test_truncated_file(monkeypatch, tmp_path, real_npz_path):
    whole = real_npz_path.read_bytes()
    _use(monkeypatch, tmp_path / "mnist.npz").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(MnistDataError, match="truncated or corrupted"):
        load_mnist()


def test_corrupted_bytes(monkeypatch, tmp_path, real_npz_path):
    damaged = bytearray(real_npz_path.read_bytes())
    middle = len(damaged) // 2
    damaged[middle : middle + 64] = bytes(64)  # zero out a stretch inside x_train's data
    damaged[middle + 100 : middle + 164] = b"\xff" * 64
    _use(monkeypatch, tmp_path / "mnist.npz").write_bytes(bytes(damaged))
    with pytest.raises(MnistDataError, match="corrupted"):
        load_mnist()


def test_not_an_npz_at_all(monkeypatch, tmp_path):
    _use(monkeypatch, tmp_path / "mnist.npz").write_text("<html>404 Not Found</html>")
    with pytest.raises(MnistDataError, match="cannot be read as an .npz file"):
        load_mnist()


def test_missing_keys(monkeypatch, tmp_path, real_arrays):
    path = _use(monkeypatch, tmp_path / "mnist.npz")
    np.savez(path, x_train=real_arrays["x_train"], y_train=real_arrays["y_train"])
    with pytest.raises(MnistDataError, match="no array named x_test, y_test"):
        load_mnist()


def test_wrong_shape(monkeypatch, tmp_path, real_arrays):
    arrays = dict(real_arrays, x_train=real_arrays["x_train"].reshape(60000, 784))
    np.savez(_use(monkeypatch, tmp_path / "mnist.npz"), **arrays)
    with pytest.raises(MnistDataError, match=r"x_train has shape \(60000, 784\)"):
        load_mnist()


def test_wrong_dtype(monkeypatch, tmp_path, real_arrays):
    arrays = dict(real_arrays, y_test=real_arrays["y_test"].astype(np.int64))
    np.savez(_use(monkeypatch, tmp_path / "mnist.npz"), **arrays)
    with pytest.raises(MnistDataError, match="y_test has shape .* dtype int64"):
        load_mnist()


def test_checksum_mismatch(monkeypatch, tmp_path, real_arrays):
    x_test = real_arrays["x_test"].copy()
    x_test[0, 14, 14] ^= 1  # one pixel of one image off by one
    np.savez(_use(monkeypatch, tmp_path / "mnist.npz"), **dict(real_arrays, x_test=x_test))
    with pytest.raises(MnistDataError, match="x_test differ from MNIST's .SHA-256 mismatch"):
        load_mnist()


def everything_shown(error: pytest.ExceptionInfo) -> str:
    """Every error message a traceback would show, chained exceptions included (not the code lines)."""
    shown, current = [], error.value
    while current is not None:
        shown += traceback.format_exception_only(current)
        chained = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
        current = chained
    return "".join(shown)


def test_object_arrays_are_refused_without_suggesting_pickle(monkeypatch, tmp_path, real_arrays):
    arrays = dict(real_arrays, y_train=np.array([object()] * 3, dtype=object))
    np.savez(_use(monkeypatch, tmp_path / "mnist.npz"), **arrays)
    with pytest.raises(MnistDataError, match="cannot be read as MNIST: it holds Python objects") as error:
        load_mnist()
    assert "not an MNIST archive" in str(error.value) and "MNIST_NPZ" in str(error.value)
    assert "pickle" not in everything_shown(error).lower()


@pytest.mark.parametrize(
    "content",
    [
        random.Random(6).randbytes(4096),
        pickle.dumps({"x_train": [1, 2, 3]}),
        b"\x93NUMPY" + random.Random(7).randbytes(200),  # an .npy header, not an archive
        b"",
    ],
    ids=["random bytes", "python objects", "an npy file", "empty"],
)
def test_a_file_that_is_no_archive_never_suggests_pickle(monkeypatch, tmp_path, content):
    _use(monkeypatch, tmp_path / "mnist.npz").write_bytes(content)
    with pytest.raises(MnistDataError) as error:
        load_mnist()
    message = str(error.value)
    assert "cannot be read as an .npz file: it is not an MNIST archive" in message
    assert "Get a good copy of mnist.npz" in message and "MNIST_NPZ" in message  # the fix hint
    assert "pickle" not in everything_shown(error).lower()


def test_an_archive_member_that_is_not_an_array(monkeypatch, tmp_path, real_arrays):
    path = _use(monkeypatch, tmp_path / "mnist.npz")
    np.savez(path, **real_arrays)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("x_train", b"not an array")  # no .npy suffix: NumPy returns raw bytes
    with pytest.raises(MnistDataError, match="x_train is not a NumPy array"):
        load_mnist()


def test_error_message_names_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    monkeypatch.setenv("MNIST_NPZ", str(tmp_path / "absent.npz"))
    with pytest.raises(MnistDataError) as error:
        load_mnist()
    assert os.path.join(str(tmp_path / "kh"), "datasets", "mnist.npz") in str(error.value)
