// Writes next to the target, then renames: a full disk or a crash never leaves half a file under the real name.
import { renameSync, rmSync, writeFileSync } from 'node:fs'

export function writeWhole(path: string, contents: string | Uint8Array | Uint8Array[]): void {
  const partial = `${path}.partial`
  try {
    writeFileSync(partial, Array.isArray(contents) ? Buffer.concat(contents) : contents)
    renameSync(partial, path)
  } catch (error) {
    rmSync(partial, { force: true })
    throw error
  }
}
