// What Dawn's Vulkan backend needs of the process on Linux, without loading TensorFlow.js or Dawn: the engine's main
// thread prepares it before any worker starts.
import { existsSync } from 'node:fs'
import { arch, tmpdir } from 'node:os'
import { join } from 'node:path'

/** Whether the dynamic loader can find libvulkan.so.1 (the folders ld.so searches on Debian, Fedora and Arch). */
export function vulkanLoaderPresent(): boolean {
  const multiarch = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' }[arch()] ?? ''
  const folders = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), `/usr/lib/${multiarch}`, `/lib/${multiarch}`, '/usr/lib64', '/usr/lib', '/lib64', '/lib', '/usr/local/lib']
  return folders.some((folder) => existsSync(join(folder, 'libvulkan.so.1')))
}

/** Vulkan loaders complain on every start without a runtime dir (headless servers, CI). Only the main thread can set
 *  the process's environment (a worker's process.env is its own copy), so the engine calls this before it starts
 *  its workers. */
export function giveVulkanARuntimeDir(): void {
  if (process.platform === 'linux') process.env.XDG_RUNTIME_DIR ??= tmpdir()
}
