#!/usr/bin/env bash
# Copies the files the Helm chart embeds from where they are written into the chart, because Helm can read
# only files inside the chart folder:
#   alerts/*.rules.yaml  -> deploy/helm/mlcost/files/alerts/      (one PrometheusRule each)
#   dashboards/*.json    -> deploy/helm/mlcost/files/dashboards/  (one dashboard ConfigMap each)
# Copies are byte for byte; a copy whose source is gone is removed. test/helm.test.ts fails when the two differ.
#
# Usage: deploy/sync-chart-files.sh           copy
#        deploy/sync-chart-files.sh --check   change nothing; exit 1 and name the files when they differ
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
chart_files="$repo_root/deploy/helm/mlcost/files"
check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *)
    echo "usage: $0 [--check]" >&2
    exit 2
    ;;
esac

differences=0
# sync <source folder> <glob> <target folder>
sync() {
  local source="$1" pattern="$2" target="$3" file name
  shopt -s nullglob
  local sources=("$source"/$pattern)
  local copies=("$target"/$pattern)
  shopt -u nullglob
  for file in "${sources[@]}"; do
    name="$(basename "$file")"
    if ! cmp -s "$file" "$target/$name"; then
      differences=$((differences + 1))
      if [[ "$check" == 1 ]]; then
        echo "differs: ${file#"$repo_root"/} -> ${target#"$repo_root"/}/$name"
      else
        mkdir -p "$target"
        cp "$file" "$target/$name"
        echo "copied ${file#"$repo_root"/} -> ${target#"$repo_root"/}/$name"
      fi
    fi
  done
  for file in "${copies[@]}"; do
    name="$(basename "$file")"
    if [[ ! -e "$source/$name" ]]; then
      differences=$((differences + 1))
      if [[ "$check" == 1 ]]; then
        echo "stale: ${file#"$repo_root"/} (no ${source#"$repo_root"/}/$name)"
      else
        rm -f "$file"
        echo "removed ${file#"$repo_root"/} (no ${source#"$repo_root"/}/$name)"
      fi
    fi
  done
}

sync "$repo_root/alerts" "*.rules.yaml" "$chart_files/alerts"
sync "$repo_root/dashboards" "*.json" "$chart_files/dashboards"

if [[ "$check" == 1 && "$differences" -gt 0 ]]; then
  echo "the chart's files/ differ from alerts/ and dashboards/: run deploy/sync-chart-files.sh" >&2
  exit 1
fi
if [[ "$check" == 1 ]]; then
  echo "the chart's files/ match alerts/ and dashboards/"
else
  echo "$differences file(s) changed"
fi
