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
ALERTMANAGER_VERSION="0.25.0"
# helm, built from its Go module. The official release binary stamps its version and the Kubernetes version it
# targets (from its k8s.io/client-go, v0.37.0 for helm 3.22.0) with -ldflags; a plain `go install` would report
# "v3.22" and render against Kubernetes 1.20, so the same -X flags are passed here.
HELM_VERSION="3.22.0"
HELM_KUBE_MINOR="37"

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

# prometheus: the server test/alerts-e2e.test.ts and test/dashboards.test.ts start (rules with shortened `for`, every
# dashboard query). It comes in the same Debian package as promtool, so it is linked from that unpacked package
# (or from the system when promtool came from there and its prometheus is at the pinned version).
setup_prometheus() {
  local link="$bin_dir/prometheus" stamp="$tools_dir/prometheus/.version-$PROMETHEUS_VERSION"
  local unpacked="$tools_dir/prometheus/usr/bin/prometheus"
  if [[ ! -x "$link" || ! -f "$stamp" ]] || ! "$link" --version 2>&1 | grep -q "version $PROMETHEUS_VERSION\b"; then
    local system
    system="$(command -v prometheus || true)"
    if [[ -x "$unpacked" && -f "$stamp" ]]; then
      ln -sfn "../prometheus/usr/bin/prometheus" "$link"
    elif [[ -n "$system" ]] && "$system" --version 2>&1 | grep -q "version $PROMETHEUS_VERSION\b"; then
      ln -sfn "$system" "$link"
    else
      local version
      version="$(pick_debian_version prometheus "$PROMETHEUS_VERSION")"
      log "installing prometheus from Debian package prometheus $version"
      unpack_debian_package prometheus "$version" "$tools_dir/prometheus"
      rm -f "$tools_dir"/prometheus/.version-*
      touch "$stamp"
      ln -sfn "../prometheus/usr/bin/prometheus" "$link"
      # promtool from the system (see setup_promtool) stays linked where it was; a link into the package is
      # still valid, since the same package was unpacked again.
    fi
  fi
  "$link" --version >/dev/null 2>&1 || die "$link does not run"
  log "prometheus $("$link" --version 2>&1 | head -n1 | awk '{print $3}') at $link"
}

# alertmanager and amtool: `amtool check-config` and `amtool config routes test` on alerts/alertmanager.example.yaml
# (test/alerts.test.ts), and the Alertmanager test/alerts-e2e.test.ts delivers alerts through. From Debian's
# prometheus-alertmanager package, whose server binary is named prometheus-alertmanager.
setup_alertmanager() {
  local stamp="$tools_dir/alertmanager/.version-$ALERTMANAGER_VERSION"
  local server="$bin_dir/alertmanager" amtool="$bin_dir/amtool"
  if [[ ! -x "$server" || ! -x "$amtool" || ! -f "$stamp" ]]; then
    local version
    version="$(pick_debian_version prometheus-alertmanager "$ALERTMANAGER_VERSION")"
    log "installing alertmanager and amtool from Debian package prometheus-alertmanager $version"
    unpack_debian_package prometheus-alertmanager "$version" "$tools_dir/alertmanager"
    [[ -x "$tools_dir/alertmanager/usr/bin/prometheus-alertmanager" ]] ||
      die "prometheus-alertmanager $version holds no usr/bin/prometheus-alertmanager"
    mkdir -p "$bin_dir"
    ln -sfn "../alertmanager/usr/bin/prometheus-alertmanager" "$server"
    ln -sfn "../alertmanager/usr/bin/amtool" "$amtool"
    rm -f "$tools_dir"/alertmanager/.version-*
    touch "$stamp"
  fi
  # Debian builds the server to read its default notification templates from /usr/share/prometheus/alertmanager
  # (compiled in, no flag), and without them it refuses every configuration. So, as for chromium, one step goes
  # outside .tools/: the package's two template files are copied there when that folder has none (it needs root).
  local templates="/usr/share/prometheus/alertmanager"
  if [[ ! -f "$templates/default.tmpl" ]]; then
    log "copying alertmanager's default templates to $templates (compiled into Debian's build)"
    { mkdir -p "$templates" && cp "$tools_dir/alertmanager$templates/"*.tmpl "$templates/"; } ||
      die "cannot write $templates (it needs root): copy $tools_dir/alertmanager$templates/*.tmpl there"
  fi
  "$server" --version >/dev/null 2>&1 || die "$server does not run"
  "$amtool" --version >/dev/null 2>&1 || die "$amtool does not run"
  log "alertmanager $("$server" --version 2>&1 | head -n1 | awk '{print $3}') at $server, amtool at $amtool"
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

# Go toolchain for the tools built from Go modules (helm, mlcost-validate); modules come from the Go module proxy.
require_go() {
  command -v go >/dev/null 2>&1 || die "go is not installed; it is needed to build $1 (apt-get install golang-go, or Go >= 1.26)"
}

# helm: `helm lint` and `helm template` of deploy/helm/mlcost (test/helm.test.ts). Built with `go install` from
# helm.sh/helm/v3 at the pinned version; a stamp file records the version, because the binary's own version
# string is whatever -ldflags said.
setup_helm() {
  local link="$bin_dir/helm" stamp="$tools_dir/helm/.version-$HELM_VERSION"
  if [[ ! -x "$link" || ! -f "$stamp" ]]; then
    require_go helm
    log "building helm v$HELM_VERSION with go install (first time: a few minutes of module downloads)"
    local ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION"
    ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
    ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$HELM_KUBE_MINOR"
    ldflags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$HELM_KUBE_MINOR"
    mkdir -p "$bin_dir" "$tools_dir/helm"
    CGO_ENABLED=0 GOBIN="$bin_dir" go install -buildvcs=false -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION" ||
      die "go install helm.sh/helm/v3/cmd/helm@v$HELM_VERSION failed"
    rm -f "$tools_dir"/helm/.version-*
    touch "$stamp"
  fi
  "$link" version --short >/dev/null 2>&1 || die "$link does not run"
  log "helm $("$link" version --short 2>/dev/null) at $link"
}

# mlcost-validate: strict offline validation of rendered manifests against the Kubernetes API types
# (deploy/validate, a Go module on k8s.io/api). Rebuilt whenever its sources change (the stamp is their hash).
setup_mlcost_validate() {
  local source="$repo_root/deploy/validate" link="$bin_dir/mlcost-validate" hash stamp
  [[ -f "$source/go.mod" ]] || return 0
  hash="$(cat "$source"/go.mod "$source"/go.sum "$source"/*.go | sha256sum | cut -c1-16)"
  stamp="$tools_dir/mlcost-validate/.source-$hash"
  if [[ ! -x "$link" || ! -f "$stamp" ]]; then
    require_go mlcost-validate
    log "building mlcost-validate from deploy/validate"
    mkdir -p "$bin_dir" "$tools_dir/mlcost-validate"
    (cd "$source" && CGO_ENABLED=0 go build -buildvcs=false -trimpath -o "$link" .) ||
      die "go build of deploy/validate failed"
    rm -f "$tools_dir"/mlcost-validate/.source-*
    touch "$stamp"
  fi
  echo "apiVersion: v1
kind: ConfigMap
metadata: {name: probe, namespace: default}" | "$link" >/dev/null 2>&1 || die "$link does not run"
  log "mlcost-validate (k8s.io/api $(awk '$1 == "k8s.io/api" {print $2}' "$source/go.mod")) at $link"
}

# chromium: Debian's Chromium, driven headless through playwright-core by test/report-page.e2e.test.ts. Unlike the
# tools above it is installed system-wide (it needs its shared libraries, fonts and sandbox helper from Debian's
# dependency tree, which `dpkg -x` would not bring), so the test looks for /usr/bin/chromium.
setup_chromium() {
  local binary="/usr/bin/chromium"
  if [[ ! -x "$binary" ]]; then
    command -v apt-get >/dev/null 2>&1 || die "apt-get is not available; cannot install chromium"
    ensure_apt_lists chromium
    log "installing chromium from Debian (apt-get install chromium)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null ||
      die "apt-get install chromium failed (it needs root); install Debian's chromium so $binary exists"
  fi
  "$binary" --version >/dev/null 2>&1 || die "$binary does not run"
  log "$("$binary" --version 2>/dev/null | head -n1) at $binary"
}

main() {
  mkdir -p "$bin_dir"
  setup_promtool
  setup_prometheus
  setup_alertmanager
  setup_python_venv
  setup_helm
  setup_mlcost_validate
  setup_chromium
}

main "$@"
