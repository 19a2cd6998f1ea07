#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine with a Rust toolchain. Idempotent and
# quick when everything is already there. Run as root (or with sudo available).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v cc >/dev/null || need_apt+=(gcc libc6-dev)
command -v make >/dev/null || need_apt+=(make)
command -v readelf >/dev/null || need_apt+=(binutils)
command -v php >/dev/null || need_apt+=(php-cli)
command -v phpunit >/dev/null || need_apt+=(phpunit)
command -v composer >/dev/null || need_apt+=(composer)
compgen -G '/usr/sbin/php-fpm*' >/dev/null || need_apt+=(php-fpm)
command -v cgi-fcgi >/dev/null || need_apt+=(libfcgi-bin)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
command -v valgrind >/dev/null || need_apt+=(valgrind)
command -v runuser >/dev/null || need_apt+=(util-linux)
# The emulator's inspector test renders its page in a real browser, headless.
command -v chromium >/dev/null || need_apt+=(chromium)
# A real Redis for the fleet-pacing test (started by the test on a free port, stopped after).
command -v redis-server >/dev/null || need_apt+=(redis-server)
if [ ${#need_apt[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    echo "setup: apt-get install ${need_apt[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# cbindgen, pinned: the checked-in header records its version, and CI regenerates and compares.
CBINDGEN_VERSION=0.29.4
export PATH="$HOME/.cargo/bin:$PATH"
if [ "$(cbindgen --version 2>/dev/null || true)" != "cbindgen $CBINDGEN_VERSION" ]; then
    echo "setup: cargo install cbindgen $CBINDGEN_VERSION"
    cargo install cbindgen --version "$CBINDGEN_VERSION" --locked --quiet
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
py_missing=()
python3 -c "import maturin" 2>/dev/null || command -v maturin >/dev/null || py_missing+=("maturin>=1.9.4,<2")
python3 -c "import pytest" 2>/dev/null || py_missing+=(pytest)
python3 -c "import mypy" 2>/dev/null || py_missing+=(mypy)
python3 -c "import tqdm" 2>/dev/null || py_missing+=(tqdm)
if [ ${#py_missing[@]} -gt 0 ]; then
    echo "setup: pip install ${py_missing[*]}"
    python3 -m pip install -q "${py_missing[@]}"
fi
