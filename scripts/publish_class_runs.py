"""Publish this user's trained runs for a class: a read-only folder, or an archive to hand out.

    python scripts/publish_class_runs.py --dest /srv/mnist-class
    python scripts/publish_class_runs.py --dest build/class-runs --archive build/class-runs.tar.gz

Students set MNIST_CLASS_RUNS to the folder (JupyterHub sets it for everyone: see
deploy/jupyterhub/README.md); notebooks 05 to 08 then open without training.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import helpers  # noqa: F401  (imports TensorFlow quietly before helpers.artifacts does)
from helpers import class_runs
from helpers.artifacts import RunError


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dest", type=Path, required=True, help="the class folder to write (created if missing)"
    )
    parser.add_argument("--archive", type=Path, help="also write this .tar.gz of the class folder")
    args = parser.parse_args()
    try:
        published = class_runs.publish(args.dest)
    except (RunError, OSError) as error:
        print(f"Nothing was published: {error}", file=sys.stderr)
        return 1
    for run in published:
        print(f"{run.mode:5} {run.name:10} -> {run.folder}")
    destination = args.dest.expanduser().resolve()
    print(f"Students set MNIST_CLASS_RUNS={destination} (checksums: {destination / class_runs.CHECKSUMS}).")
    if args.archive:
        print(f"Archive: {class_runs.archive(destination, args.archive)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
