#!/bin/bash
# By-hand runner for the v9fs kernel-mount test (no npm, no jest): boots a Linux kernel under
# QEMU, mounts services/storage over a virtio-serial port (trans=fd) and runs the guest
# workload, printing the guest console. Needs: qemu-system-x86, linux-image-amd64,
# busybox-static, cpio, and `npx tsc -b` done once (services/storage/dist); gcc + libc6-dev
# optional (a faster guest relay, see guest/p9relay.c).
#
#   test/v9fs/run.sh [9p2000.L|9p2000.u] [MSIZE]      # default 9p2000.L 1048576
#
# Env: PROSE_V9FS_KERNEL (vmlinuz), PROSE_V9FS_MODULES (/lib/modules/<ver>), PROSE_V9FS_UID/GID
# (the guest user, and the host user the service runs as when started by root; default 1000),
# PROSE_V9FS_TIMEOUT (s, default 120), PROSE_V9FS_KVM=1 uses /dev/kvm, PROSE_V9FS_KEEP=1 keeps the temp dir, PROSE_V9FS_TRACE=1
# runs the service with -D (9P trace in $TMP/storage.err).
# Only Unix sockets are used: QEMU connects its chardev to the service's Unix listener.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VERSION=${1:-9p2000.L}
MSIZE=${2:-1048576}
TIMEOUT=${PROSE_V9FS_TIMEOUT:-120}
QEMU=${PROSE_V9FS_QEMU:-$(command -v qemu-system-x86_64 || true)}
BUSYBOX=${PROSE_V9FS_BUSYBOX:-/bin/busybox}
[ -x "$QEMU" ] || { echo "SKIP: qemu-system-x86_64 not found (apt-get install qemu-system-x86)"; exit 77; }
KERNEL=${PROSE_V9FS_KERNEL:-$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1 || true)}
[ -n "$KERNEL" ] && [ -r "$KERNEL" ] || { echo "SKIP: no readable kernel in /boot (apt-get install linux-image-amd64)"; exit 77; }
KVER=${KERNEL##*/vmlinuz-}
MODS=${PROSE_V9FS_MODULES:-/lib/modules/$KVER}
[ -f "$MODS/modules.dep" ] || { echo "SKIP: no $MODS/modules.dep"; exit 77; }
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' || ldd "$BUSYBOX" 2>&1 | grep -q 'not a dynamic' || { echo "SKIP: $BUSYBOX is not a static busybox (apt-get install busybox-static)"; exit 77; }
command -v cpio >/dev/null || { echo "SKIP: cpio not found"; exit 77; }

TMP=$(mktemp -d /tmp/prose-v9fs-XXXXXX)
SVC=; QPID=
cleanup() {
  [ -n "$QPID" ] && kill -9 "$QPID" 2>/dev/null || true
  [ -n "$SVC" ] && kill "$SVC" 2>/dev/null || true
  if [ "${PROSE_V9FS_KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

# --- initramfs -------------------------------------------------------------------------------
R=$TMP/root
mkdir -p "$R/bin" "$R/modules" "$R/data"
cp "$BUSYBOX" "$R/bin/busybox"
install -m 755 "$HERE/guest/init" "$R/init"
install -m 755 "$HERE/guest/workload.sh" "$R/workload.sh"
# The guest relay (see guest/p9relay.c); without a C compiler and static libc, busybox nc.
if [ "${PROSE_V9FS_RELAY:-}" != nc ] && ${CC:-cc} -O2 -static -o "$R/bin/p9relay" "$HERE/guest/p9relay.c" 2>/dev/null; then :; else rm -f "$R/bin/p9relay"; fi
declare -A seen=()
order=()
add_mod() { # $1: path relative to $MODS, as in modules.dep
  local m=$1 deps d
  [ -n "${seen[$m]:-}" ] && return 0
  seen[$m]=1
  deps=$(grep -E "^${m//./\\.}:" "$MODS/modules.dep" | cut -d: -f2-)
  local arr=($deps) i
  for ((i=${#arr[@]}-1; i>=0; i--)); do add_mod "${arr[$i]}"; done
  order+=("$m")
}
for want in virtio_pci virtio_console 9pnet_fd 9p; do
  p=$(grep -E "/${want}\.ko(\.xz|\.zst|\.gz)?:" "$MODS/modules.dep" | head -1 | cut -d: -f1 || true)
  if [ -z "$p" ]; then
    grep -qE "/${want}\.ko" "$MODS/modules.builtin" 2>/dev/null && continue
    echo "FAIL: module $want neither in modules.dep nor built in"; exit 1
  fi
  add_mod "$p"
done
: > "$R/modules.list"
for m in "${order[@]}"; do
  b=$(basename "$m"); b=${b%.xz}; b=${b%.zst}; b=${b%.gz}
  case "$m" in
    *.xz) xz -dc "$MODS/$m" > "$R/modules/$b" ;;
    *.zst) zstd -qdc "$MODS/$m" > "$R/modules/$b" ;;
    *.gz) gzip -dc "$MODS/$m" > "$R/modules/$b" ;;
    *) cp "$MODS/$m" "$R/modules/$b" ;;
  esac
  echo "$b" >> "$R/modules.list"
done
head -c 1048576 /dev/urandom > "$R/data/src.bin"
sha256sum < "$R/data/src.bin" | cut -d' ' -f1 > "$R/data/src.sha256"
md5sum < "$R/data/src.bin" | cut -d' ' -f1 > "$R/data/src.md5"
(cd "$R" && find . | cpio -o -H newc --quiet -R 0:0) | gzip -1 > "$TMP/initrd.gz"

# --- storage service on a Unix socket --------------------------------------------------------
WUID=${PROSE_V9FS_UID:-$(id -u)}; WGID=${PROSE_V9FS_GID:-$(id -g)}
AS=()
if [ "$(id -u)" = 0 ]; then
  WUID=${PROSE_V9FS_UID:-1000}; WGID=${PROSE_V9FS_GID:-1000}
  AS=(setpriv --reuid="$WUID" --regid="$WGID" --clear-groups)
fi
mkdir -p "$TMP/export" "$TMP/sock"
chown "$WUID:$WGID" "$TMP/export" "$TMP/sock"
chmod 755 "$TMP"
TRACE=(); [ "${PROSE_V9FS_TRACE:-0}" = 1 ] && TRACE=(-D)
"${AS[@]}" node "$ROOT/services/storage/dist/main.js" --export "$TMP/export" --listen "unix!$TMP/sock/s.sock" \
  --health none "${TRACE[@]}" > "$TMP/storage.out" 2> "$TMP/storage.err" &
SVC=$!
for _ in $(seq 100); do grep -q '^listening' "$TMP/storage.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^listening' "$TMP/storage.out" || { echo "FAIL: storage did not start"; cat "$TMP/storage.err"; exit 1; }

# --- QEMU ------------------------------------------------------------------------------------
ACCEL=(-machine q35,accel=tcg)
# KVM only on request: on nested hosts (e.g. this Firecracker VM) a KVM guest can hang in early boot.
if [ "${PROSE_V9FS_KVM:-0}" = 1 ] && [ -w /dev/kvm ]; then ACCEL=(-machine q35,accel=kvm -cpu host); fi
echo "kernel $KERNEL, $VERSION msize=$MSIZE, guest uid $WUID:$WGID, ${ACCEL[*]}"
start=$(date +%s.%N)
timeout -s KILL "$TIMEOUT" "$QEMU" "${ACCEL[@]}" -m 512 -smp 1 -nodefaults -no-reboot -display none \
  -serial stdio -monitor none -nic none \
  -kernel "$KERNEL" -initrd "$TMP/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1 v9fs.version=$VERSION v9fs.msize=$MSIZE v9fs.uid=$WUID v9fs.gid=$WGID" \
  -chardev "socket,id=c9p,path=$TMP/sock/s.sock" \
  -device virtio-serial-pci -device virtserialport,chardev=c9p,name=p9 < /dev/null | tee "$TMP/console.log" &
QPID=$!
wait $QPID || true
QPID=
end=$(date +%s.%N)
echo "elapsed $(echo "$end - $start" | bc) s"
echo "--- host check of $TMP/export/work"
ls -laR "$TMP/export/work" 2>&1 | head -40
[ -f "$TMP/export/work/big.bin" ] && echo "host sha256 big.bin $(sha256sum < "$TMP/export/work/big.bin" | cut -d' ' -f1) expected $(cat "$R/data/src.sha256")"
grep -q '^@@V9FS END 0' "$TMP/console.log" && grep -q '@@V9FS WORKLOAD pass=[0-9]* fail=0' "$TMP/console.log"
