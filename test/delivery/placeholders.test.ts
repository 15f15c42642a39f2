import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makePicture } from '../support/fakes/images.ts'
import { createPlaceholders } from '../../src/delivery/placeholders.ts'

const dir = mkdtempSync(join(tmpdir(), 'headshot-placeholders-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('placeholders', () => {
  test('a file is read and hashed once per version of it, and read again when it changes', async () => {
    writeFileSync(join(dir, 'avatar.png'), await makePicture('first', 20, 20, 'png'))
    const placeholders = createPlaceholders(dir)
    const first = await placeholders.load('avatar.png')
    expect(first).toMatchObject({ format: 'png', width: 20, height: 20 })
    expect(await placeholders.load('avatar.png')).toBe(first!) // the same object: not read again
    writeFileSync(join(dir, 'avatar.png'), await makePicture('second', 30, 30, 'png'))
    utimesSync(join(dir, 'avatar.png'), new Date(), new Date(Date.now() + 5_000))
    const second = await placeholders.load('avatar.png')
    expect(second).toMatchObject({ width: 30, height: 30 })
    expect(second!.hash).not.toBe(first!.hash)
  })

  test('an oversized or empty file is refused from its size', async () => {
    writeFileSync(join(dir, 'huge.png'), new Uint8Array(5_000_001))
    writeFileSync(join(dir, 'empty.png'), new Uint8Array(0))
    const placeholders = createPlaceholders(dir)
    expect(await placeholders.load('huge.png')).toBeUndefined()
    expect(await placeholders.load('empty.png')).toBeUndefined()
  })
})
