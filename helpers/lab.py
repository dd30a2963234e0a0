"""JupyterLab for the workshop: the kit's kernel, the lab's settings, and the command that starts it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from helpers.config import KIT_NAME

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
KERNEL_NAME = KIT_NAME
KERNEL_DISPLAY_NAME = "Python 3 (ML workshop, ch. 8)"

# The lab's own defaults that get in an attendee's way. Jupyter reads overrides.json from the lab's
# application folder and treats each entry as the setting's new default (the user can still change it).
SETTINGS: dict[str, dict[str, object]] = {
    # No "Would you like to get notified about official Jupyter news?" pop-up, no update checks
    # (workshop machines are often offline, and the question distracts from the first cell).
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    # Every cell stays in the page: attendees scroll long outputs, and search (Ctrl+F) finds all of them.
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
}


def register_kernel(user: bool = False) -> Path:
    """Register the kit's kernel (this Python) for Jupyter; in this environment, or the user's with user=True."""
    from ipykernel.kernelspec import install

    # In the kit's venv a .pth file makes `helpers` importable; a Jupyter outside it (SageMaker Studio,
    # JupyterHub) starts the kernel in notebooks/, so the kernel itself is told where the kit is.
    where = install(
        kernel_name=KERNEL_NAME,
        display_name=KERNEL_DISPLAY_NAME,
        user=user,
        prefix=None if user else sys.prefix,
        env={"PYTHONPATH": str(ROOT)} if user else None,
    )
    return Path(where)


def write_settings(app_dir: Path | None = None) -> Path:
    """Write the kit's lab settings into this environment's JupyterLab (overrides.json)."""
    target = (app_dir or Path(sys.prefix, "share", "jupyter", "lab")) / "settings" / "overrides.json"
    current = json.loads(target.read_text()) if target.exists() else {}
    for plugin, values in SETTINGS.items():
        current.setdefault(plugin, {}).update(values)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(current, indent=2) + "\n")
    return target


def command(port: int | None = None, token: str | None = None, open_browser: bool = True) -> list[str]:
    """The command line that starts the workshop's JupyterLab on the notebooks folder."""
    args = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={NOTEBOOKS}",
        f"--MultiKernelManager.default_kernel_name={KERNEL_NAME}",
    ]
    if port is not None:
        args += [f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    if token is not None:
        args.append(f"--IdentityProvider.token={token}")
    if not open_browser:
        args.append("--no-browser")
    if (
        hasattr(os, "geteuid") and os.geteuid() == 0
    ):  # containers and CI run as root; Jupyter refuses by default
        args.append("--ServerApp.allow_root=True")
    return args
