#!/usr/bin/env bash
# Debian packages that widen what CI covers. `npm ci && npm test` passes without any of them (the
# browser specs fall back to the Chromium in @sparticuz/chromium, ffmpeg comes from npm, test audio is
# made by our own code); with them CI also runs what a bare machine skips. Idempotent.
# - chromium: the browser specs in Debian's Chromium, as most contributors run them.
# - ffmpeg: the system fallback of engine/runtime/ffmpeg.ts, as on a machine without the npm binary.
# - xvfb: Electron e2e when its binary is present.
# - redis-server: the render-farm tests start their own on a free loopback port (engine/farm).
# - mesa-vulkan-drivers (bookworm-backports, >= 25): software Vulkan (lavapipe) so ORT's WebGPU EP runs on CPU.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
for p in chromium ffmpeg xvfb libvulkan1 redis-server; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
# "install ok installed" only: a package removed with its config files left still answers dpkg -s.
lavapipe_ok() { dpkg-query -W -f='${Status} ${Version}' mesa-vulkan-drivers 2>/dev/null | grep -qE '^install ok installed (2[5-9]|[3-9][0-9])\.'; }
if [ ${#need[@]} -gt 0 ] || ! lavapipe_ok; then
  if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
    cat > /etc/apt/sources.list.d/bookworm-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  apt-get update -qq
  [ ${#need[@]} -gt 0 ] && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  lavapipe_ok || apt-get install -y -qq --no-install-recommends -t bookworm-backports mesa-vulkan-drivers >/dev/null || echo "warning: software Vulkan not installed; WebGPU tests will be skipped"
fi
echo "system deps ready"
