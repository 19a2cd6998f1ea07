#!/usr/bin/env bash
# Builds the release wheel of the Python package into dist/: optimised, stripped, abi3 (one wheel
# for CPython >= 3.9) and manylinux2014 (glibc 2.17), so it installs on every Linux that CPython
# 3.9+ supports, Debian 11, Ubuntu 20.04 and RHEL 8 included.
#
#   scripts/build-wheel.sh            # -> dist/vodupload-VERSION-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
#
# The machine's own glibc is newer than 2.17, and a wheel linked against it would need those
# newer symbols: maturin links through zig (the `ziglang` package from PyPI), which targets
# glibc 2.17 whatever the host has. maturin then checks the wheel as auditwheel would
# (--compatibility refuses anything newer), and `auditwheel show` prints the verdict.
# Extra arguments go to `maturin build` (e.g. --target aarch64-unknown-linux-gnu).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

py_missing=()
python3 -c "import maturin" 2>/dev/null || py_missing+=("maturin>=1.9.4,<2")
python3 -c "import ziglang" 2>/dev/null || py_missing+=(ziglang)
python3 -c "import auditwheel" 2>/dev/null || py_missing+=(auditwheel)
if [ ${#py_missing[@]} -gt 0 ]; then
    echo "build-wheel: pip install ${py_missing[*]}"
    python3 -m pip install -q "${py_missing[@]}"
fi

out=dist
mkdir -p "$out"
# Build output, never committed: the folder ignores itself.
[ -e "$out/.gitignore" ] || printf '*\n' >"$out/.gitignore"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
rm -f "$out"/vodupload-"$version"-*.whl
# From python/, whose pyproject.toml points maturin at the crate.
(cd python && python3 -m maturin build --release --strip --zig --compatibility manylinux2014 \
    --out "../$out" "$@")

for wheel in "$out"/vodupload-"$version"-*.whl; do
    python3 -m auditwheel show "$wheel"
    so_size="$(python3 - "$wheel" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    print(sum(i.file_size for i in z.infolist() if i.filename.endswith(".so")))
EOF
)"
    echo "built $wheel: $(stat -c %s "$wheel") bytes, extension $so_size bytes unpacked"
done
