#!/usr/bin/env bash
# GPU check for the compute issue: TensorFlow.js WebGPU (Dawn on the NVIDIA Vulkan driver) vs PyTorch CUDA.
exec 2>&1
ROOT=$(pwd)
for f in .device/gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export XDG_RUNTIME_DIR=/tmp
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  [ -f "$icd" ] && export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd && break
done
echo "ICD: ${VK_ICD_FILENAMES:-none}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
xz -d -c .device/node.xz > /tmp/node && chmod +x /tmp/node && /tmp/node --version
cd .device
# Each model with our fused WGSL kernels, then with stock ops only (BENCH_STOCK_KERNELS=1): ms/step and, in
# gpuPerStep, the dispatches, submits, uploads, buffers and read-backs one step asks of the GPU; then (KERNELS) one
# more update with each dispatch timed on the GPU: its busy time against the step's wall time, by kernel.
for m in lstm transformer; do
  for stock in 0 1; do
    BENCH_KERNEL_TIMES=1 BENCH_STOCK_KERNELS=$stock timeout 200 /tmp/node bench.mjs $m webgpu 5 2 2>&1 | grep -E "RESULT|KERNELS|rror|bench:|Warning" | cut -c1-1500
  done
done
# The seq2seq defaults (input feeding: the decoder steps) and HRED's small preset, fused kernels only.
for m in lstm-feeding hred-tiny; do
  BENCH_KERNEL_TIMES=1 timeout 200 /tmp/node bench.mjs $m webgpu 5 2 2>&1 | grep -E "RESULT|KERNELS|rror|bench:" | cut -c1-1500
done
# The row shaders (attention, layer norm, Add & Norm, cross-entropy) reducing in workgroup memory instead of subgroups:
# their KERNELS times against the fused run's above.
BENCH_KERNEL_TIMES=1 KOTOBA_WEBGPU_SUBGROUPS=0 timeout 200 /tmp/node bench.mjs transformer webgpu 5 2 2>&1 | grep -E "RESULT|KERNELS|rror|bench:" | cut -c1-1500
# Fewer, bigger submits (64 dispatches each, tfjs submits every 15): less host time, a later start on the GPU.
for m in lstm transformer; do
  BENCH_SUBMIT_EVERY=64 timeout 200 /tmp/node bench.mjs $m webgpu 5 2 2>&1 | grep -E "RESULT|rror|bench:" | cut -c1-900
done
# The host's share of a step on this machine's CPU: the models shrunk until the GPU's work is negligible; submits as
# tfjs makes them, then none while recording.
for m in lstm lstm-feeding transformer; do
  for every in 15 100000; do
    BENCH_SUBMIT_EVERY=$every timeout 90 /tmp/node host-time.mjs $m 2>&1 | grep -E "RESULT|rror" | cut -c1-400
  done
done
# The GPU-only size (d 512, 6+6 layers, vocabulary 32k, 4,096 tokens a batch), fused kernels only.
BENCH_KERNEL_TIMES=1 timeout 240 /tmp/node bench.mjs transformer-big webgpu 3 1 2>&1 | grep -E "RESULT|KERNELS|rror|bench:" | cut -c1-1500
cd "$ROOT"
for m in lstm lstm-feeding hred-tiny transformer transformer-big; do python3 scripts/bench/torch_twins.py $m 10 3 1 cuda; done
