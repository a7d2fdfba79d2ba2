#!/usr/bin/env bash
# GPU check for the compute issue: TensorFlow.js WebGPU (Dawn on the NVIDIA Vulkan driver) against PyTorch CUDA and
# against our wasm path on the same machine's CPU. Two parts, one device call each (bash .device/run.sh <part>):
#   targets     the reference LSTM and Transformer and the GPU-only size: fused WebGPU (with each kernel's GPU time),
#               wasm, PyTorch CUDA; what docs/benchmarks.md reports against the targets
#   breakdowns  stock ops, the seq2seq defaults and HRED, subgroups off, fewer submits, the host's share of a step
# Everything printed is also written to $OUT/device-<part>.log as it comes, so a run cut short keeps what it measured.
PART=${1:-targets}
exec > >(tee -a "${OUT:-/tmp}/device-$PART.log") 2>&1
ROOT=$(pwd)
for f in .device/gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export XDG_RUNTIME_DIR=/tmp
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  [ -f "$icd" ] && export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd && break
done
echo "part: $PART  ICD: ${VK_ICD_FILENAMES:-none}  CPUs: $(nproc)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
[ -x /tmp/node ] || { xz -d -c .device/node.xz > /tmp/node && chmod +x /tmp/node; }
/tmp/node --version
dawn=.device/node_modules/webgpu/dist/linux-x64/dawn.node
[ -f "$dawn" ] || xz -d -k "$dawn.xz"
cd .device
bench() { timeout "$1" /tmp/node "${@:2}" 2>&1 | grep -E "RESULT|KERNELS|rror|bench:|Warning" | cut -c1-1500; }
twin() { (cd "$ROOT" && timeout 120 python3 scripts/bench/torch_twins.py "$@" 2>&1 | grep -E "RESULT|rror" | cut -c1-600); }

if [ "$PART" = targets ]; then
  # Fused WGSL kernels: ms/step, gpuPerStep (dispatches, submits, uploads, buffers, read-backs), then (KERNELS) one
  # more update with each dispatch timed on the GPU: its busy time against the step's wall time, by kernel. Each
  # beside its PyTorch CUDA twin, then our wasm path on this machine's CPU (the engine's default threads).
  for m in lstm transformer; do
    BENCH_KERNEL_TIMES=1 bench 150 bench.mjs $m webgpu 5 2
    twin $m 10 3 1 cuda
    bench 150 bench.mjs $m wasm 3 1
  done
  # The GPU-only size (d 512, 6+6 layers, vocabulary 32k, 4,096 tokens a batch): the wasm heap cannot hold it.
  BENCH_KERNEL_TIMES=1 bench 200 bench.mjs transformer-big webgpu 3 1
  twin transformer-big 10 3 1 cuda
else
  # Stock ops only (BENCH_STOCK_KERNELS=1): what the fused kernels save.
  for m in lstm transformer; do BENCH_STOCK_KERNELS=1 bench 150 bench.mjs $m webgpu 3 1; done
  # The seq2seq defaults (input feeding: the decoder steps) and HRED's small preset, fused kernels only.
  for m in lstm-feeding hred-tiny; do
    BENCH_KERNEL_TIMES=1 bench 150 bench.mjs $m webgpu 5 2
    twin $m 10 3 1 cuda
  done
  # The row shaders (attention, layer norm, Add & Norm, cross-entropy) reducing in workgroup memory instead of
  # subgroups: their KERNELS times against the targets part's Transformer.
  BENCH_KERNEL_TIMES=1 KOTOBA_WEBGPU_SUBGROUPS=0 bench 150 bench.mjs transformer webgpu 5 2
  # Fewer, bigger submits (64 dispatches each, tfjs submits every 15): less host time, a later start on the GPU.
  for m in lstm transformer; do BENCH_SUBMIT_EVERY=64 bench 150 bench.mjs $m webgpu 5 2; done
  # The host's share of a step on this machine's CPU: the models shrunk until the GPU's work is negligible; submits as
  # tfjs makes them, then none while recording.
  for m in lstm lstm-feeding transformer; do
    for every in 15 100000; do BENCH_SUBMIT_EVERY=$every bench 90 host-time.mjs $m; done
  done
fi
echo "part $PART done"
