#!/usr/bin/env bash
# Debian packages the test suite needs. Idempotent: skips what is already installed.
# - chromium: Playwright drives Debian's browser (playwright's own download is unreachable offline).
# - ffmpeg: fallback encoder when @ffmpeg-installer's binary is missing; also used by tests to probe outputs.
# - xvfb: Electron e2e when its binary is present.
# - mesa-vulkan-drivers (bookworm-backports, >= 25): software Vulkan (lavapipe) so ORT's WebGPU EP runs on CPU.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
for p in chromium ffmpeg xvfb espeak-ng sox libvulkan1; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
lavapipe_ok() { dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -qE '^(2[5-9]|[3-9][0-9])\.'; }
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
