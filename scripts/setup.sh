#!/usr/bin/env bash
# Builds everything Ventanilla needs on a fresh machine; safe to run again (it only redoes what changed).
#   scripts/setup.sh           both virtual environments, the trained Rasa model, the KB index
#   scripts/setup.sh --test    the same, plus what the tests need (Debian's chromium)
set -euo pipefail
cd "$(dirname "$0")/.."

with_test_deps=0
[[ "${1:-}" == "--test" ]] && with_test_deps=1

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

# A working interpreter of the given X.Y version: PATH first, then pyenv's versions.
find_python() {
  local version=$1 candidate
  for candidate in "python$version" \
      $( (command -v pyenv >/dev/null && ls -d "$(pyenv root)"/versions/"$version".*/bin/python"$version") 2>/dev/null) \
      "$HOME"/.pyenv/versions/"$version".*/bin/python"$version" \
      /usr/bin/python"$version" /usr/local/bin/python"$version"; do
    if "$candidate" -c 'import sys, venv' >/dev/null 2>&1; then
      command -v "$candidate" 2>/dev/null || echo "$candidate"
      return 0
    fi
  done
  return 1
}

# The installer itself: the Python builds here come with pip 23.2, which has known advisories
# (CVE-2023-5752, CVE-2025-8869); 25.3 fixes both.
PIP_VERSION=25.3

# Build or update a venv from its lock file; a stamp with the lock's hash says it is current.
sync_venv() {
  local venv=$1 python=$2 lock=$3 stamp hash
  stamp="$venv/.ventanilla-lock"
  hash=$( (cat "$lock"; echo "pip==$PIP_VERSION") | sha256sum | cut -d' ' -f1)
  if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$hash" ]]; then
    say "$venv está al día"
    return 0
  fi
  [[ -x "$venv/bin/python" ]] || { say "creando $venv con $python"; "$python" -m venv "$venv"; }
  say "instalando $lock en $venv (unos minutos la primera vez)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pip==$PIP_VERSION" 2>&1 \
    | grep -v -e '^WARNING: Location' || true
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$lock" 2>&1 \
    | grep -v -e '^WARNING: Location' -e 'DEPRECATION' || true
  "$venv/bin/python" -m pip check >/dev/null 2>&1 || "$venv/bin/python" -m pip check || true
  echo "$hash" > "$stamp"
}

py310=$(find_python 3.10) || die "Rasa 3.6 necesita Python 3.10 y no lo encontré. Instálalo (p. ej. 'pyenv install 3.10.13' o 'apt-get install python3.10 python3.10-venv') y vuelve a ejecutar."
py311=$(find_python 3.11) || die "Ventanilla necesita Python 3.11 y no lo encontré. Instálalo (p. ej. 'pyenv install 3.11.7') y vuelve a ejecutar."

sync_venv .venv-rasa "$py310" requirements/rasa.txt
sync_venv .venv "$py311" requirements/main.txt
.venv/bin/python -m pip install --quiet --no-deps --disable-pip-version-check -e . 2>&1 \
  | grep -v -e '^WARNING: Location' || true

if (( with_test_deps )); then
  if [[ ! -x /usr/bin/chromium ]]; then
    say "instalando chromium de Debian (pruebas en navegador)"
    sudo_cmd=""
    [[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
      chromium fonts-dejavu-core >/dev/null
  fi
fi

.venv/bin/ventanilla train
# The shipped knowledge-base articles into the configured base and its search index (again only
# when the articles changed).
.venv/bin/ventanilla kb sync
# Fictitious units, people and slots for booking appointments (again only when they run out).
.venv/bin/ventanilla seed-demo --if-needed
say "listo"
