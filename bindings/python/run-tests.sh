#!/usr/bin/env bash
# Builds and tests the `cyrisma` Python package from a fresh machine's point of view:
#
# 1. a virtual environment under target/ (reused between runs; `CYRISMA_PY_VENV` moves it);
# 2. the test tools from PyPI (pytest, pytest-asyncio, mypy, orjson for the speed probe);
# 3. `pip install ./bindings/python`, exactly as a user would: pip fetches the maturin build
#    backend from PyPI and cargo builds the abi3 extension in release mode;
# 4. the `cyrisma` binary (debug), which tests/test_fleet.py runs against the same emulator;
#    pytest on tests/, mypy --strict on the examples and the package, and stubtest on the
#    installed package against the hand-written stubs;
# 5. the P3 speed probe (scan detail vs orjson), which fails only with CYRISMA_PERF_STRICT=1, and
#    the P1-P5 probes in quick mode (a smoke check; peers that are not installed report null).
#
# Exits non-zero as soon as a step fails. Needs Python >= 3.10 with venv and pip, cargo, and
# network access to PyPI and crates.io (or their caches).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
venv="${CYRISMA_PY_VENV:-$root/target/python-venv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

step() { printf '\nrun-tests.sh: %s\n' "$*" >&2; }

step "python: $("$python" --version 2>&1), venv: $venv"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
py="$venv/bin/python"

step "installing the test tools"
"$py" -m pip install --quiet "pytest>=8" "pytest-asyncio>=0.23" "mypy>=1.10" "orjson>=3.9"

step "pip install ./bindings/python (maturin build backend from PyPI, cargo build --release)"
"$py" -m pip install --quiet --force-reinstall --no-deps "$here"

step "cargo build -p cyrisma-cli (tests/test_fleet.py runs the binary beside the package)"
cargo build --quiet --manifest-path "$root/Cargo.toml" -p cyrisma-cli --bin cyrisma
export CYRISMA_CLI="$CARGO_TARGET_DIR/debug/cyrisma"

cd "$here"

step "pytest"
"$py" -m pytest -q -p no:cacheprovider tests

step "mypy --strict (the examples, then the installed package)"
"$py" -m mypy --strict --no-incremental examples
"$py" -m mypy --strict --no-incremental -p cyrisma

step "stubtest (the installed package against its stubs)"
"$py" -m mypy.stubtest cyrisma --allowlist "$here/stubtest-allowlist.txt"


step "P3 speed probe"
"$py" benches/scan_detail.py

step "P1-P5 probes, quick mode (checks that they run; the figures come from cargo xtask bench)"
"$py" benches/probes.py --quick

step "all python checks passed"
