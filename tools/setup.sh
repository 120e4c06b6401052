#!/usr/bin/env bash
# Install what ext4guard needs on a Debian machine, once: system packages (only those
# missing), the project virtualenv with pinned Python packages, and the pinned Kaitai
# compiler for grammar regeneration. Idempotent; quiet when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

need_apt=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# gcc + libfuse3-dev + pkg-config build pyfuse3; libseccomp2 is loaded by server/seccomp.py.
for pkg in e2fsprogs fuse3 libfuse3-dev pkg-config gcc libseccomp2 xz-utils acl; do
  have_pkg "$pkg" || need_apt+=("$pkg")
done
have_cmd node || need_apt+=(nodejs)
have_cmd npm || need_apt+=(npm)
"$PYTHON" -m venv --help >/dev/null 2>&1 || need_apt+=(python3-venv)
"$PYTHON" -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  || need_apt+=(python3-dev)

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing system packages: ${need_apt[*]} (run as root, or: sudo apt-get install ${need_apt[*]})" >&2
    exit 2
  fi
  echo "setup: apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.ext4guard-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  echo "setup: installing Python packages into $VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
  "$VENV/bin/python" -m pip install -q -c constraints.txt -e '.[dev]'
  touch "$stamp"
fi

if [ ! -d ksy/node_modules/kaitai-struct-compiler ]; then
  echo "setup: installing the pinned kaitai-struct-compiler (npm ci)"
  (cd ksy && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
