#!/usr/bin/env bash
# Installs the Debian `prometheus-node-exporter` into the project-local .tools/ folder for the agent benchmark
# (bench/agent.bench.ts), which runs it beside the mlcost agent as the reference exporter. Same method as
# test/setup/setup-test-tools.sh uses for promtool: `apt-get download` + `dpkg -x` into .tools/node-exporter/,
# nothing installed system-wide, no service started; the binary is linked as .tools/bin/node-exporter.
# Idempotent: a binary already at the pinned version is only reported.
#
# Exits 0 with the binary's path on stdout's last line, or non-zero with one line on stderr saying why (the
# benchmark then reports the agent without its peer).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="$repo_root/.tools"
bin_dir="$tools_dir/bin"
target="$tools_dir/node-exporter"
link="$bin_dir/node-exporter"

# Pin: the upstream version; any Debian revision of it is accepted (security rebuilds change only the revision).
NODE_EXPORTER_VERSION="1.5.0"
PACKAGE="prometheus-node-exporter"

log() { echo "setup-node-exporter: $*" >&2; }
die() {
  echo "setup-node-exporter: $*" >&2
  exit 1
}

apt_updated=0
# Prints the newest version of the package in the lists whose upstream part is the pin (e.g. 1.5.0-1+b6).
pick_debian_version() {
  local version=""
  if apt-cache madison "$PACKAGE" >/dev/null 2>&1; then
    version="$(apt-cache madison "$PACKAGE" 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); print $2}' |
      grep -E "^([0-9]+:)?${NODE_EXPORTER_VERSION//./\\.}([+~-]|$)" | head -n1 || true)"
  fi
  if [[ -z "$version" && "$apt_updated" == 0 ]]; then
    log "refreshing Debian package lists (apt-get update)"
    apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed; cannot fetch $PACKAGE"
    apt_updated=1
    version="$(apt-cache madison "$PACKAGE" 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); print $2}' |
      grep -E "^([0-9]+:)?${NODE_EXPORTER_VERSION//./\\.}([+~-]|$)" | head -n1 || true)"
  fi
  [[ -n "$version" ]] || die "Debian package $PACKAGE $NODE_EXPORTER_VERSION is not in the package lists (apt-cache madison $PACKAGE)"
  echo "$version"
}

install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get is not available; cannot fetch $PACKAGE"
  command -v dpkg >/dev/null 2>&1 || die "dpkg is not available; cannot unpack $PACKAGE"
  local version work
  version="$(pick_debian_version)"
  log "installing node_exporter from Debian package $PACKAGE $version"
  work="$(mktemp -d)"
  # apt-get download writes into the current folder; _apt must be able to write there when apt drops privileges.
  chmod 0777 "$work"
  (cd "$work" && apt-get download -qq "$PACKAGE=$version" >/dev/null 2>&1) || {
    rm -rf "$work"
    die "apt-get download $PACKAGE=$version failed"
  }
  rm -rf "$target"
  mkdir -p "$target" "$bin_dir"
  dpkg -x "$work"/"$PACKAGE"_*.deb "$target"
  rm -rf "$work"
  [[ -x "$target/usr/bin/prometheus-node-exporter" ]] || die "the package holds no usr/bin/prometheus-node-exporter"
  ln -sfn "../node-exporter/usr/bin/prometheus-node-exporter" "$link"
  rm -f "$target"/.version-*
  touch "$target/.version-$NODE_EXPORTER_VERSION"
}

main() {
  if [[ ! -x "$link" || ! -f "$target/.version-$NODE_EXPORTER_VERSION" ]]; then
    install
  fi
  "$link" --version >/dev/null 2>&1 || die "$link does not run"
  log "node_exporter $("$link" --version 2>&1 | head -n1 | awk '{print $3}') at $link"
  echo "$link"
}

main "$@"
