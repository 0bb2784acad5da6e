#!/usr/bin/env bash
# Gradescope runs this once, as root on its Ubuntu image, while it builds the
# autograder image: it makes a virtual environment holding the pinned packages and
# the grader. AUTOGRADER_ROOT stands in for /autograder when trying the bundle out.
set -euo pipefail

ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
VENV="$ROOT/venv"
PIP_FLAGS=(--disable-pip-version-check --no-cache-dir --no-input)

# The grader needs Python 3.11 or newer.
python_ok() {
  "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1
}

find_python() {
  local candidate
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

apt_install() {
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

if ! PYTHON="$(find_python)"; then
  apt_install python3.11 python3.11-venv
  PYTHON=python3.11
fi

# Ubuntu ships venv's pip bootstrap in a separate package.
if ! "$PYTHON" -m venv "$VENV"; then
  apt_install "$(basename "$PYTHON")-venv"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
fi

"$VENV/bin/python" -m pip install "${PIP_FLAGS[@]}" --requirement "$SOURCE/requirements.txt"
"$VENV/bin/python" -m pip install "${PIP_FLAGS[@]}" --no-deps "$SOURCE"
