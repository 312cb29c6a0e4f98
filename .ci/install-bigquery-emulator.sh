#!/usr/bin/env bash
# Builds goccy/bigquery-emulator, the third-party BigQuery peer of the destination tests.
# Pure Go since v0.7.0 (googlesqlite + go-googlesql), so CGO_ENABLED=0 builds without a C++
# toolchain. Idempotent: an existing binary reporting the pinned version is kept.
#
#   ETLD_BQ_EMULATOR_VERSION  module version to build (default below, must be >= v0.7.0)
#   ETLD_ORACLES_BIN          install directory (default /opt/etld-oracles/bin, or $GOBIN when set)
#
# The test (test/destinations/bigquery-emulator.test.ts) looks for $ETLD_BQ_EMULATOR first,
# then <install directory>/bigquery-emulator.
set -euo pipefail

version="${ETLD_BQ_EMULATOR_VERSION:-v0.8.1}"
bin_dir="${ETLD_ORACLES_BIN:-${GOBIN:-/opt/etld-oracles/bin}}"
binary="$bin_dir/bigquery-emulator"
stamp="$bin_dir/.bigquery-emulator.version"

if ! command -v go >/dev/null 2>&1; then
  echo "install-bigquery-emulator: 'go' is not on PATH (need Go >= 1.24)" >&2
  exit 1
fi

if [[ -x "$binary" && -f "$stamp" && "$(cat "$stamp")" == "$version" ]]; then
  echo "install-bigquery-emulator: $binary is already $version, nothing to do"
  exit 0
fi

mkdir -p "$bin_dir"
echo "install-bigquery-emulator: building github.com/goccy/bigquery-emulator/cmd/bigquery-emulator@$version"
echo "install-bigquery-emulator: CGO_ENABLED=0 GOBIN=$bin_dir ($(go version))"
start=$(date +%s)
pkg="github.com/goccy/bigquery-emulator/cmd/bigquery-emulator"
if ! CGO_ENABLED=0 GOBIN="$bin_dir" go install "$pkg@$version"; then
  # `go install pkg@version` also reads the module's version list to look for deprecation
  # notices; a registry mirror that serves pinned versions but not @v/list refuses that. The same
  # pinned build then goes through a throwaway module, which needs only the pinned version.
  echo "install-bigquery-emulator: plain go install failed; building $version through a pinned helper module"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (
    cd "$work"
    go mod init etld-oracles/bigquery-emulator >/dev/null 2>&1
    CGO_ENABLED=0 go get "$pkg@$version"
    CGO_ENABLED=0 GOBIN="$bin_dir" go install "$pkg"
  )
fi
echo "$version" > "$stamp"
echo "install-bigquery-emulator: installed $binary in $(( $(date +%s) - start ))s"
"$binary" --version 2>/dev/null || true
