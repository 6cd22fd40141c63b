#!/bin/bash
# ReFree GPU check, self-contained: unpacks its own Node and onnxruntime (linux-x64) and runs the check.
#   bash run.sh [--local] [--out DIR] [--work DIR] [--budget SECONDS] [--json]
# Needs only bash, gzip and tar. A Vulkan loader (for WebGPU) is taken from the system, else from a
# libvulkan1_*.deb next to this script or in ./.gl/ (see docs/GPU-CHECK.md).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RT="${REFREE_GPU_CHECK_RUNTIME:-${TMPDIR:-/tmp}/refree-gpu-check-runtime}"
STAMP="$(cat "$HERE/stamp")"

if [ ! -x "$RT/node" ] || [ "$(cat "$RT/.stamp" 2>/dev/null || true)" != "$STAMP" ]; then
  rm -rf "$RT"
  mkdir -p "$RT"
  gzip -dc "$HERE/node.gz" >"$RT/node"
  chmod +x "$RT/node"
  for part in "$HERE"/*.tar.gz; do tar -xzf "$part" -C "$RT"; done
  echo "$STAMP" >"$RT/.stamp"
fi

# WebGPU runs over Vulkan: bring the loader when the machine has none.
# (The library list is read into a variable first: with pipefail, `ldconfig | grep -q` can fail on SIGPIPE.)
LIBS="$( (ldconfig -p || /sbin/ldconfig -p) 2>/dev/null || true)"
# REFREE_GPU_CHECK_OWN_VULKAN=1 takes the carried loader even when the machine has one (e.g. a loader too old for WebGPU).
if [ -n "${REFREE_GPU_CHECK_OWN_VULKAN:-}" ] || ! grep -q 'libvulkan\.so\.1' <<<"$LIBS"; then
  for deb in "$HERE"/libvulkan1_*.deb "$PWD"/.gl/libvulkan1_*.deb; do
    [ -f "$deb" ] || continue
    if command -v dpkg >/dev/null; then
      mkdir -p "$RT/vulkan"
      dpkg -x "$deb" "$RT/vulkan"
      export LD_LIBRARY_PATH="$RT/vulkan/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
      echo "run.sh: using the Vulkan loader from ${deb##*/}" >&2
    else
      echo "run.sh: no Vulkan loader on this machine and no dpkg to unpack ${deb##*/}; WebGPU will not open" >&2
    fi
    break
  done
fi

# In NVIDIA containers the Vulkan driver manifest may sit outside the loader's search path.
NV_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$NV_ICD" ] && [ ! -f /usr/share/vulkan/icd.d/nvidia_icd.json ] && [ ! -f /etc/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES="$NV_ICD"
fi

exec "$RT/node" "$RT/check.mjs" "$@"
