#!/usr/bin/env bash
# Packs what the GPU check needs into .device/ (git-ignored through .git/info/exclude): the benchmark and the
# host-time probe, each bundled into one file, a compressed Node, the webgpu (Dawn) package for linux-x64 and the
# Vulkan/GL loader packages. The device machine reaches no registry, so everything travels. Then, with the device tool:
#   run  command='bash .device/run.sh'  carry=['.device']
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .git/info && { grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo '/.device/' >> .git/info/exclude; }
rm -rf .device && mkdir -p .device/gl .device/node_modules/webgpu/dist
for entry in tfjs-train:bench webgpu-host-time:host-time; do
  npx esbuild "scripts/bench/${entry%%:*}.ts" --bundle --platform=node --format=esm --outfile=".device/${entry##*:}.mjs" \
    --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu --external:@tensorflow/tfjs-backend-wasm \
    --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" --log-level=warning
done
xz -T2 -6 -c "$(command -v node)" > .device/node.xz
cp node_modules/webgpu/package.json node_modules/webgpu/index.js .device/node_modules/webgpu/
cp -r node_modules/webgpu/dist/linux-x64 .device/node_modules/webgpu/dist/
cp -r node_modules/webgpu/node_modules .device/node_modules/webgpu/ 2>/dev/null || true
(cd .device/gl && apt-get -oAPT::Architecture=amd64 download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
cp scripts/bench/device-run.sh .device/run.sh
du -sh .device
