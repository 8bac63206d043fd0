"""Import TensorFlow without the start-up log lines a student would have to ignore.

TensorFlow's C++ runtime writes its banner (oneDNN notice, absl warning) to file
descriptor 2 while it is imported, before any Python logging setting can reach it.
Pointing descriptor 2 at /dev/null for the length of that import silences the
banner and nothing else: real errors raised later still reach stderr.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator

from helpers.memory import return_freed_memory
from helpers.threads import apply_cpu_budget


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    try:
        saved = os.dup(2)
    except OSError:  # no real descriptor 2 (some embedded consoles): nothing to hide
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and Keras once, with their start-up noise turned off.

    Freed tensor memory is handed back to the system (helpers.memory). Then
    TensorFlow's thread pools are sized to the CPUs this process may use (helpers.threads).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return_freed_memory()  # before TensorFlow's allocator exists
    with _stderr_silenced(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import keras  # noqa: F401
        import tensorflow as tf

    # Before TensorFlow runs any op: its thread pools can be sized only until then.
    apply_cpu_budget()

    tf.get_logger().setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    # model.fit's shuffle argument defaults to True and Keras warns that it is ignored
    # for a tf.data pipeline; the series' pipeline reshuffles every epoch itself.
    warnings.filterwarnings("ignore", message=r"`shuffle=True` was passed", category=UserWarning)
