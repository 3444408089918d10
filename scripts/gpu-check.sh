#!/usr/bin/env bash
# One GPU check: adapters and providers found, then SEAT and full steps of the embedded model and of the
# Qwen2.5-0.5B shape on webgpu and cuda vs CPU, as JSON and a markdown table (see scripts/gpu-check.ts).
#   scripts/gpu-check.sh                 on a GPU machine (target: under 5 minutes)
#   scripts/gpu-check.sh --software      no-GPU mode: WebGPU on SwiftShader from Debian's chromium package
# WebGPU needs a Vulkan loader (libvulkan.so.1) and the GPU's Vulkan driver manifest; on a machine
# without the loader, point SEAT_VULKAN_LIB_DIR at a folder holding one (README: GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ " $* " == *" --software "* ]]; then
  sw=/usr/lib/chromium
  if [[ ! -f $sw/vk_swiftshader_icd.json || ! -f $sw/libvulkan.so.1 ]]; then
    echo "gpu-check: --software needs SwiftShader from Debian's chromium package ($sw); apt-get install chromium" >&2
    exit 2
  fi
  export LD_LIBRARY_PATH="$sw${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" VK_ICD_FILENAMES="$sw/vk_swiftshader_icd.json"
elif [[ -n "${SEAT_VULKAN_LIB_DIR:-}" ]]; then
  export LD_LIBRARY_PATH="$SEAT_VULKAN_LIB_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
exec node --import tsx scripts/gpu-check.ts "$@"
