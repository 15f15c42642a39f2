/**
 * Default images for `d_<name>` (HEADSHOT_PLACEHOLDERS_DIR): served, transformed like the requested
 * picture, when a network has no picture. Names come from URLs, so the resolved real path must stay
 * inside the folder (no `..`, no symlink escapes; lessons from ipx's traversal bugs).
 */
import { realpath, readFile } from 'node:fs/promises'
import { sep } from 'node:path'
import { resolve } from 'node:path'
import { sha256Hex } from '../store/blobs.ts'
import { probeImage } from '../image/probe.ts'
import type { SourceFormat } from '../url/types.ts'

export interface Placeholder {
  bytes: Uint8Array
  format: SourceFormat
  width: number
  height: number
  hash: string
}

export interface Placeholders {
  load(name: string): Promise<Placeholder | undefined>
}

const MAX_PLACEHOLDER_BYTES = 5_000_000

export function createPlaceholders(dir: string): Placeholders {
  return {
    async load(name) {
      // The URL parser already allows only `[A-Za-z0-9_.-]` segments without `.`/`..`; check again here.
      if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(name) || name.split('/').some((s) => s === '.' || s === '..')) return undefined
      let root: string
      let file: string
      try {
        root = await realpath(dir)
        file = await realpath(resolve(root, name))
      } catch {
        return undefined
      }
      if (!file.startsWith(root + sep)) return undefined
      const bytes = new Uint8Array(await readFile(file).catch(() => new Uint8Array()))
      if (bytes.byteLength === 0 || bytes.byteLength > MAX_PLACEHOLDER_BYTES) return undefined
      const probe = probeImage(bytes)
      if (!probe) return undefined
      const turned = probe.orientation >= 5
      return {
        bytes,
        format: probe.format,
        width: turned ? probe.height : probe.width,
        height: turned ? probe.width : probe.height,
        hash: sha256Hex(bytes),
      }
    },
  }
}
