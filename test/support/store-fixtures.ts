// Shared builders for the store tests (not a test file itself).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Derivative, Picture } from '../../src/store/types.ts'

export const HASH_A = 'a'.repeat(64)
export const HASH_B = 'b'.repeat(64)
export const HASH_C = 'c'.repeat(64)

/** A held picture unless overrides say otherwise. */
export function picture(overrides: Record<string, unknown> = {}): Picture {
  return <Picture>{
    type: 'facebook',
    publicId: '65646572251',
    version: 1_700_000_000,
    status: 'ok',
    upstreamUrl: 'https://graph.example/65646572251/picture',
    changeKey: 'ck-1',
    etag: '"e1"',
    lastModified: 'Tue, 14 Nov 2023 22:13:20 GMT',
    contentHash: HASH_A,
    format: 'jpg',
    width: 400,
    height: 300,
    bytes: 12_345,
    faces: [{ x: 10, y: 20, w: 30, h: 40 }],
    createdAt: 1_700_000_000_000,
    fetchedAt: 1_700_000_000_100,
    checkedAt: 1_700_000_000_200,
    ...overrides,
  }
}

export function derivative(overrides: Partial<Derivative> = {}): Derivative {
  return {
    type: 'facebook',
    publicId: '65646572251',
    version: 1_700_000_000,
    key: 'c_fill,h_120,w_80/jpg',
    format: 'jpg',
    contentHash: HASH_B,
    bytes: 2_048,
    width: 80,
    height: 120,
    createdAt: 1_700_000_001_000,
    lastServedAt: 1_700_000_001_000,
    eager: false,
    ...overrides,
  }
}

/** A fresh directory under the OS temp dir; call the returned cleanup in afterEach/afterAll. */
export function tempDir(prefix = 'headshot-store-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) }
}
