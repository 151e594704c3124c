#!/usr/bin/env bash
# Freezes both environments into their lock files after requirements/*.in changed and were installed:
#   .venv-rasa/bin/pip install -r requirements/rasa.in; .venv/bin/pip install -r requirements/main.in
set -euo pipefail
cd "$(dirname "$0")/.."
# torch is pinned without "+cpu": pip then takes the CPU build these machines keep on disk.
freeze() {
  local venv=$1 source=$2 lock=$3
  {
    echo "# Locked from $source by scripts/lock.sh ($("$venv/bin/python" --version)). Do not edit by hand."
    "$venv/bin/python" -m pip freeze --exclude-editable --all | grep -v -E "^(pip|setuptools|wheel)==" | sed -E "s/^torch==([0-9.]+)\+cpu$/torch==\1/"
  } > "$lock"
  echo "wrote $lock"
}
freeze .venv-rasa requirements/rasa.in requirements/rasa.txt
freeze .venv requirements/main.in requirements/main.txt
