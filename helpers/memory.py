"""Make freed tensor memory go back to the system, so a kernel fits a class server's 1 GB.

Two caches keep the memory of tensors a kernel no longer holds:

- TensorFlow's oneDNN CPU allocator pools large tensors (a BFC pool) and never
  hands the pool back: after the first ``fit`` a kernel keeps about 100 MB more
  than it uses. ``TF_ONEDNN_USE_SYSTEM_ALLOCATOR=1`` makes it call malloc, but
  training then runs about 1.8 times as long per epoch, so only quick mode (a
  class on a shared server, where memory is what runs out) sets it.
- glibc's malloc raises its mmap threshold each time a large block is freed
  (up to 32 MB), so the next tensors of a few MB land in the heap, where freed
  space is fragmented and kept. A fixed threshold of 1 MB maps every larger
  block on its own and unmaps it when freed.

Neither changes a computed number; benchmarks/README.md (*Kernel memory*)
measures what they save. Both must be set before TensorFlow is imported, so
helpers sets them as it imports TensorFlow; a value the user exported for
the variable is kept.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

from helpers import settings

M_MMAP_THRESHOLD = -3  # mallopt's parameter number in glibc's malloc.h
MMAP_THRESHOLD_BYTES = 1 << 20


def return_freed_memory() -> bool:
    """Set both (the allocator in quick mode only) for this process; True where mallopt took the threshold."""
    if settings.mode() == "quick":
        os.environ.setdefault("TF_ONEDNN_USE_SYSTEM_ALLOCATOR", "1")
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:  # the user's own choice, already applied by glibc
        return False
    library = ctypes.util.find_library("c")
    if library is None:
        return False
    try:
        mallopt = ctypes.CDLL(library).mallopt
    except (OSError, AttributeError):  # not glibc (macOS, musl without mallopt)
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
