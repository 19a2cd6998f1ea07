#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine with a Rust toolchain. Idempotent and
# quick when everything is already there. Run as root (or with sudo available).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v php >/dev/null || need_apt+=(php-cli)
command -v phpunit >/dev/null || need_apt+=(phpunit)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
command -v valgrind >/dev/null || need_apt+=(valgrind)
command -v runuser >/dev/null || need_apt+=(util-linux)
if [ ${#need_apt[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    echo "setup: apt-get install ${need_apt[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

py_missing=()
python3 -c "import maturin" 2>/dev/null || command -v maturin >/dev/null || py_missing+=("maturin>=1.8,<2")
python3 -c "import pytest" 2>/dev/null || py_missing+=(pytest)
python3 -c "import mypy" 2>/dev/null || py_missing+=(mypy)
if [ ${#py_missing[@]} -gt 0 ]; then
    echo "setup: pip install ${py_missing[*]}"
    python3 -m pip install -q "${py_missing[@]}"
fi
