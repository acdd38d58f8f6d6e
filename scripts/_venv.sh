# Shared by scripts/demo and scripts/test: make .venv with Python >= 3.11 and install into it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "aidmatch needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
install_extras() {
    # Once per change of pyproject.toml: a stamp newer than it says this extra is installed,
    # so a second run (or .ci/run's two suites side by side) installs nothing.
    local stamp=".venv/.installed-$1"
    if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ]; then
        return 0
    fi
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[$1]"
    touch "$stamp"
}
