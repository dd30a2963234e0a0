#!/usr/bin/env bash
# Install the kit for a hosted JupyterLab (a SageMaker Studio JupyterLab space, JupyterHub) as the vendors
# document it: into its own environment in the home directory (which survives a space restart), registered
# as a --user kernel; never into the environment that runs the JupyterLab server. docs/hosted.md explains.
#
#   bash tools/hosted_install.sh            # then pick the kernel "Python 3 (ML workshop, ch. 8)"
#
# WORKSHOP_KIT_ENV: where the environment goes (default ~/.ml-workshop-env).
# WORKSHOP_KIT_PYTHON: a Python 3.11-3.13 to build it from (default: the first of python3, python3.13,
#   python3.12, python3.11 that is one; else conda/micromamba makes one with Python 3.12).
# WORKSHOP_UV: a uv to install with (default: pip of the new environment).
set -euo pipefail

KIT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENV_DIR="${WORKSHOP_KIT_ENV:-$HOME/.ml-workshop-env}"
cd "$KIT"  # the kit the kernel registers is this one, wherever the installer is run from

supported() {  # true when "$1" is a Python the kit supports (tools/check_python.py reads pyproject.toml)
    command -v "$1" >/dev/null 2>&1 && "$1" "$KIT/tools/check_python.py" 2>/dev/null
}

if [ ! -x "$ENV_DIR/bin/python" ]; then
    found=""
    for candidate in "${WORKSHOP_KIT_PYTHON:-}" python3 python3.13 python3.12 python3.11; do
        if [ -n "$candidate" ] && supported "$candidate"; then found="$candidate"; break; fi
    done
    if [ -n "$found" ]; then
        echo "creating $ENV_DIR from $(command -v "$found") ($("$found" --version))"
        "$found" -m venv "$ENV_DIR"
    else
        conda_cmd="$(command -v micromamba || command -v mamba || command -v conda || true)"
        if [ -z "$conda_cmd" ]; then
            echo "No Python 3.11-3.13 and no conda here. Fix: set WORKSHOP_KIT_PYTHON to a Python 3.11-3.13." >&2
            exit 1
        fi
        echo "this image's Python is not one the kit supports: creating $ENV_DIR with Python 3.12 ($conda_cmd)"
        "$conda_cmd" create --yes --prefix "$ENV_DIR" python=3.12 pip
    fi
fi

if [ -n "${WORKSHOP_UV:-}" ]; then
    "$WORKSHOP_UV" pip install --quiet --python "$ENV_DIR/bin/python" \
        -r "$KIT/requirements.txt" -c "$KIT/constraints.txt" --editable "$KIT"
else
    "$ENV_DIR/bin/python" -m pip install --quiet -r "$KIT/requirements.txt" -c "$KIT/constraints.txt" -e "$KIT"
fi
"$ENV_DIR/bin/python" -m helpers kernel --user
echo "done: open a notebook and choose the kernel 'Python 3 (ML workshop, ch. 8)'"
