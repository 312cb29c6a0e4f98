#!/usr/bin/env bash
# Installs the test-only object-store emulators used by test/storage/*:
#   - moto's S3 server (PyPI `moto[server]`), in a venv: $ETLD_EMULATORS_DIR/moto-venv/bin/moto_server
#   - fake-gcs-server (Go module, built with CGO off):   $ETLD_EMULATORS_DIR/bin/fake-gcs-server
# Azurite (the Azure Blob emulator) is an npm devDependency and needs nothing here.
# Idempotent: each emulator has a version stamp; a second run checks them and returns at once.
#
#   bash .ci/install-storage-emulators.sh        # into $ETLD_EMULATORS_DIR (default /opt/etld-emulators)
#
# test/helpers/object-store-emulators.ts looks in the same directory ($ETLD_EMULATORS_DIR).
set -euo pipefail

DIR="${ETLD_EMULATORS_DIR:-/opt/etld-emulators}"
MOTO_VERSION=5.2.5
FAKE_GCS_VERSION=v1.56.1
mkdir -p "$DIR/bin"

moto_stamp="$DIR/.moto-$MOTO_VERSION"
if [[ -f "$moto_stamp" && -x "$DIR/moto-venv/bin/moto_server" ]]; then
  echo "storage emulators: moto $MOTO_VERSION already installed"
else
  start=$(date +%s)
  [[ -x "$DIR/moto-venv/bin/python" ]] || python3 -m venv "$DIR/moto-venv"
  echo "storage emulators: pip install moto[server]==$MOTO_VERSION into $DIR/moto-venv"
  "$DIR/moto-venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  touch "$moto_stamp"
  echo "storage emulators: moto installed in $(( $(date +%s) - start ))s"
fi

gcs_stamp="$DIR/.fake-gcs-server-$FAKE_GCS_VERSION"
if [[ -f "$gcs_stamp" && -x "$DIR/bin/fake-gcs-server" ]]; then
  echo "storage emulators: fake-gcs-server $FAKE_GCS_VERSION already installed"
else
  command -v go >/dev/null || { echo "storage emulators: 'go' is not on PATH (fake-gcs-server is built from source)" >&2; exit 1; }
  start=$(date +%s)
  pkg="github.com/fsouza/fake-gcs-server"
  echo "storage emulators: go install $pkg@$FAKE_GCS_VERSION (CGO_ENABLED=0, $(go version))"
  if ! CGO_ENABLED=0 GOBIN="$DIR/bin" go install "$pkg@$FAKE_GCS_VERSION"; then
    # As in install-bigquery-emulator.sh: a proxy that serves pinned versions but no version list
    # refuses a plain `go install pkg@version`; a throwaway module needs only the pinned version.
    echo "storage emulators: plain go install failed; building through a pinned helper module"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    (
      cd "$work"
      go mod init etld-emulators/fake-gcs-server >/dev/null 2>&1
      CGO_ENABLED=0 go get "$pkg@$FAKE_GCS_VERSION"
      CGO_ENABLED=0 GOBIN="$DIR/bin" go install "$pkg"
    )
  fi
  touch "$gcs_stamp"
  echo "storage emulators: fake-gcs-server installed in $(( $(date +%s) - start ))s"
fi
