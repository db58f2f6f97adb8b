#!/usr/bin/env bash
# Creates .tools/venv with a pinned prometheus_client, the reference parser that
# test/prometheus-reference.test.ts compares our Prometheus text parser against.
# Idempotent: when the venv already holds the pinned version it returns at once.
set -euo pipefail

PROMETHEUS_CLIENT_VERSION="0.26.0"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv_dir="$repo_root/.tools/venv"
python_bin="$venv_dir/bin/python"
# A stamp file records what was installed, so the fast path needs no Python start-up and no pip call.
stamp="$venv_dir/.prometheus_client-$PROMETHEUS_CLIENT_VERSION"

if [[ -x "$python_bin" && -f "$stamp" ]]; then
  exit 0
fi

if ! command -v python3 >/dev/null 2>&1; then
  echo "python-venv.sh: python3 is not on PATH; install Python 3.9+ (with the venv module) and rerun." >&2
  exit 1
fi

if [[ ! -x "$python_bin" ]]; then
  echo "python-venv.sh: creating $venv_dir"
  mkdir -p "$repo_root/.tools"
  python3 -m venv "$venv_dir"
fi

echo "python-venv.sh: installing prometheus_client==$PROMETHEUS_CLIENT_VERSION"
"$python_bin" -m pip install --quiet --disable-pip-version-check "prometheus_client==$PROMETHEUS_CLIENT_VERSION"

# Drop stamps of other versions so a changed pin reinstalls rather than trusting an old stamp.
rm -f "$venv_dir"/.prometheus_client-*
touch "$stamp"
