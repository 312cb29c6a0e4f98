#!/usr/bin/env bash
# CI check of the systemd integration:
#   1. `systemd-analyze verify` passes on systemd/etld.service (no warnings either);
#   2. `systemd-analyze security --offline=true` rates it at exposure <= 2.0;
#   3. etld.sysusers.conf and etld.tmpfiles.conf apply cleanly to a scratch root;
#   4. the service-manager contract etld implements is declared: Type=notify (READY=1), a
#      watchdog, and no restart loop on exit 78 (invalid configuration).
# Installs the Debian `systemd` package first when systemd-analyze is missing.
# UNIT=/path/to/other.service checks another unit file (the tests use this to prove the check fails).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
unit=${UNIT:-$repo/systemd/etld.service}
max_exposure=${MAX_EXPOSURE:-2.0}
exec_start=/usr/local/bin/etld

fail() {
  echo "check-systemd: FAIL: $*" >&2
  exit 1
}

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "check-systemd: systemd-analyze not found; installing the Debian systemd package" >&2
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq >&2 || true
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends systemd >&2 ||
    true
  if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "check-systemd: systemd-analyze is not available and the systemd package could not be installed" >&2
    exit 2
  fi
fi
[ -f "$unit" ] || fail "$unit does not exist"
name=$(basename "$unit")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. verify. It insists that ExecStart names an existing executable, and CI has no installed etld:
# verify a copy whose ExecStart points at a stub instead; every other line is checked as written.
grep -qx "ExecStart=$exec_start" "$unit" || fail "$name: expected ExecStart=$exec_start (the path the README installs to)"
stub="$work/bin/etld"
mkdir -p "$work/bin" "$work/unit"
printf '#!/bin/sh\nexit 0\n' >"$stub"
chmod 0755 "$stub"
sed "s|^ExecStart=$exec_start\$|ExecStart=$stub|" "$unit" >"$work/unit/$name"
verify_out=$(systemd-analyze verify "$work/unit/$name" 2>&1) || fail "systemd-analyze verify: $verify_out"
# verify exits 0 on unknown keys and bad values (it only warns): any remark about the unit fails.
if grep -F "$name" <<<"$verify_out" >&2; then
  fail "systemd-analyze verify reported problems in $name"
fi
echo "check-systemd: systemd-analyze verify $name: ok"

# 2. security exposure (0.0 best … 10.0 worst).
security_out=$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1) ||
  fail "systemd-analyze security failed: $security_out"
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$security_out" | tail -n 1)
[ -n "$exposure" ] || fail "could not read the exposure level from: $security_out"
if ! awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e <= m) }'; then
  grep -F '✗' <<<"$security_out" >&2 || true
  fail "$name exposure $exposure is above $max_exposure"
fi
echo "check-systemd: systemd-analyze security $name: exposure $exposure (<= $max_exposure): ok"

# 4. the notify/watchdog/exit-code contract etld implements.
for line in 'Type=notify' 'NotifyAccess=main' 'RestartPreventExitStatus=78'; do
  grep -qx "$line" "$unit" || fail "$name: expected the line $line"
done
grep -qE '^WatchdogSec=[1-9]' "$unit" || fail "$name: expected WatchdogSec= (etld sends WATCHDOG=1 keep-alives)"
echo "check-systemd: Type=notify, WatchdogSec=, RestartPreventExitStatus=78: ok"

# 3. sysusers and tmpfiles snippets, applied to a scratch root (nothing touches the host).
if [ -z "${UNIT:-}" ] && command -v systemd-sysusers >/dev/null 2>&1 && command -v systemd-tmpfiles >/dev/null 2>&1; then
  root="$work/root"
  mkdir -p "$root/etc"
  touch "$root/etc/passwd" "$root/etc/group" "$root/etc/shadow" "$root/etc/gshadow"
  systemd-sysusers --root="$root" "$repo/systemd/etld.sysusers.conf" >/dev/null 2>&1 || fail "systemd-sysusers rejected etld.sysusers.conf"
  grep -q '^etld:' "$root/etc/passwd" || fail "etld.sysusers.conf did not create the etld user"
  grep -q '^etl:' "$root/etc/group" || fail "etld.sysusers.conf did not create the etl group"
  systemd-tmpfiles --root="$root" --create "$repo/systemd/etld.tmpfiles.conf" 2>&1 || fail "systemd-tmpfiles rejected etld.tmpfiles.conf"
  [ -d "$root/etc/etld/pipelines" ] || fail "etld.tmpfiles.conf did not create /etc/etld/pipelines"
  echo "check-systemd: sysusers.d and tmpfiles.d snippets: ok"
fi
