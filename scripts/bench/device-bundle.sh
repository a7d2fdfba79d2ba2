#!/usr/bin/env bash
# Packs what the GPU check needs into .device/ (git-ignored through .git/info/exclude): the benchmark and the
# host-time probe, each bundled into one file with tfjs and its webgpu and wasm backends (the wasm binaries beside
# them), a compressed Node, the webgpu (Dawn) package for linux-x64 and the Vulkan/GL loader packages. The device
# machine reaches no registry, so everything travels. Then, with the device tool, one call per part (each well under
# a call's 10 minutes; the first is the targets, the second the breakdowns):
#   run  command='bash .device/run.sh targets'  carry=['.device']
#   run  command='bash .device/run.sh breakdowns'  carry=['.device']
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .git/info && { grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo '/.device/' >> .git/info/exclude; }
wasm=node_modules/@tensorflow/tfjs-backend-wasm
rm -rf .device && mkdir -p .device/gl .device/node_modules/webgpu/dist ".device/$wasm/wasm-out"
# ESM bundles: tfjs-backend-wasm's Emscripten code finds its .wasm files through __dirname, which ESM lacks.
banner="import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);"
for entry in tfjs-train:bench webgpu-host-time:host-time; do
  npx esbuild "scripts/bench/${entry%%:*}.ts" --bundle --minify --platform=node --format=esm --outfile=".device/${entry##*:}.mjs" \
    --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu --banner:js="$banner" --log-level=warning
done
# The wasm backend's binaries beside the bundles; the engine's threads load the threaded build's script by its
# package's path (wasm-threads.ts).
cp $wasm/dist/*.wasm .device/
cp $wasm/package.json ".device/$wasm/"
cp $wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js ".device/$wasm/wasm-out/"
xz -T2 -6 -c "$(command -v node)" > .device/node.xz
cp node_modules/webgpu/package.json node_modules/webgpu/index.js .device/node_modules/webgpu/
cp -r node_modules/webgpu/dist/linux-x64 .device/node_modules/webgpu/dist/
xz -T2 -6 .device/node_modules/webgpu/dist/linux-x64/dawn.node # unpacked by run.sh
cp -r node_modules/webgpu/node_modules .device/node_modules/webgpu/ 2>/dev/null || true
(cd .device/gl && apt-get -oAPT::Architecture=amd64 download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
cp scripts/bench/device-run.sh .device/run.sh
du -sh .device
