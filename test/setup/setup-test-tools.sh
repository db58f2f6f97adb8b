#!/usr/bin/env bash
# Installs the pinned external tools the test suite runs into the project-local .tools/ folder, so `npm test`
# works on a fresh machine. Idempotent: a tool already at its pinned version is only reported, which takes well
# under a second. One function per tool; later issues add helm, alertmanager and chromium the same way.
#
# Tools come from Debian's package mirrors (the only outside source besides the language registries): a package
# is downloaded with `apt-get download` and unpacked with `dpkg -x` into .tools/<tool>/, so nothing is installed
# system-wide and no service is started. Binaries are linked into .tools/bin/.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tools_dir="$repo_root/.tools"
bin_dir="$tools_dir/bin"

# Pins: the upstream version; any Debian revision of it is accepted (security updates change only the revision).
PROMETHEUS_VERSION="2.42.0"

log() { echo "setup-test-tools: $*"; }
die() {
  echo "setup-test-tools: $*" >&2
  exit 1
}

apt_updated=0
# Runs `apt-get update` at most once per run, and only when a package we want is not in the local lists.
ensure_apt_lists() {
  local package="$1"
  if [[ "$apt_updated" == 0 ]] && ! apt-cache madison "$package" 2>/dev/null | grep -q .; then
    log "refreshing Debian package lists (apt-get update)"
    apt-get update -qq >/dev/null || die "apt-get update failed; cannot fetch $package"
    apt_updated=1
  fi
}

# Prints the newest version of $1 in the package lists whose upstream part is $2 (e.g. 2.42.0+ds-5+deb12u1).
pick_debian_version() {
  local package="$1" upstream="$2" version
  ensure_apt_lists "$package"
  version="$(apt-cache madison "$package" 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); print $2}' |
    grep -E "^([0-9]+:)?${upstream//./\\.}([+~-]|$)" | head -n1 || true)"
  if [[ -z "$version" && "$apt_updated" == 0 ]]; then
    apt-get update -qq >/dev/null || true
    apt_updated=1
    version="$(apt-cache madison "$package" 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); print $2}' |
      grep -E "^([0-9]+:)?${upstream//./\\.}([+~-]|$)" | head -n1 || true)"
  fi
  [[ -n "$version" ]] || die "Debian package $package $upstream is not in the package lists (apt-cache madison $package)"
  echo "$version"
}

# Downloads Debian package $1 at version $2 and unpacks it into $3 (replacing what was there).
unpack_debian_package() {
  local package="$1" version="$2" target="$3" work
  command -v apt-get >/dev/null 2>&1 || die "apt-get is not available; cannot fetch $package"
  command -v dpkg >/dev/null 2>&1 || die "dpkg is not available; cannot unpack $package"
  work="$(mktemp -d)"
  # apt-get download writes into the current folder; _apt must be able to write there when apt drops privileges.
  chmod 0777 "$work"
  (cd "$work" && apt-get download -qq "$package=$version" >/dev/null) ||
    {
      rm -rf "$work"
      die "apt-get download $package=$version failed"
    }
  rm -rf "$target"
  mkdir -p "$target"
  dpkg -x "$work"/"$package"_*.deb "$target"
  rm -rf "$work"
}

# promtool: `promtool check metrics` lints the collector's /metrics (test/metrics-promtool.test.ts).
setup_promtool() {
  local link="$bin_dir/promtool" stamp="$tools_dir/prometheus/.version-$PROMETHEUS_VERSION"
  if [[ ! -x "$link" || ! -f "$stamp" ]]; then
    local system
    system="$(command -v promtool || true)"
    if [[ -n "$system" ]] && "$system" --version 2>&1 | grep -q "version $PROMETHEUS_VERSION\b"; then
      # A system promtool at the pinned version (e.g. from `apt-get install prometheus`) is used as it is.
      mkdir -p "$bin_dir" "$tools_dir/prometheus"
      ln -sfn "$system" "$link"
    else
      local version
      version="$(pick_debian_version prometheus "$PROMETHEUS_VERSION")"
      log "installing promtool from Debian package prometheus $version"
      unpack_debian_package prometheus "$version" "$tools_dir/prometheus"
      mkdir -p "$bin_dir"
      ln -sfn "../prometheus/usr/bin/promtool" "$link"
    fi
    rm -f "$tools_dir"/prometheus/.version-*
    touch "$stamp"
  fi
  "$link" --version >/dev/null 2>&1 || die "$link does not run"
  log "promtool $("$link" --version 2>&1 | head -n1 | awk '{print $3}') at $link"
}

# Python venv with prometheus_client, written by another script (test/prometheus-reference.test.ts needs it).
setup_python_venv() {
  local script="$repo_root/test/setup/python-venv.sh"
  [[ -f "$script" ]] || return 0
  bash "$script"
  local python="$tools_dir/venv/bin/python"
  if [[ -x "$python" ]]; then
    log "prometheus_client $("$python" -c 'import prometheus_client, importlib.metadata as m; print(m.version("prometheus_client"))' 2>/dev/null || echo '?') in $tools_dir/venv"
  fi
}

main() {
  mkdir -p "$bin_dir"
  setup_promtool
  setup_python_venv
}

main "$@"
