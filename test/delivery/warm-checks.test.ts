/**
 * A warm hit skips checks it passed before (src/delivery/handler.ts remembers passes, never
 * refusals): what one URL passed must not let another through, and a named-transformations reload
 * forgets them.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { startHeadshot, type Headshot } from '../support/headshot.ts'

/** At least ~9.5 work units on any picture: over the unsigned test budget before any source, inside the signed one. */
const MEDIUM = 'c_scale,h_1200,w_1200,e_blur:800'
/** Over both. */
const ATTACK = 'c_scale,h_4096,w_4096,e_blur:2000'

let gravatar: FakeGravatar
let headshot: Headshot
let named: string
beforeAll(async () => {
  gravatar = startFakeGravatar()
  named = join(mkdtempSync(join(tmpdir(), 'headshot-warm-checks-')), 'named.json')
  writeFileSync(named, JSON.stringify({ x: 'c_fill,h_60,w_60' }))
  headshot = await startHeadshot({
    ...gravatar.env,
    HEADSHOT_MAX_WORK_UNSIGNED: '5',
    HEADSHOT_MAX_WORK: '100',
    HEADSHOT_TRANSFORMATIONS_FILE: named,
  })
})
afterAll(async () => {
  await headshot.close()
  gravatar.stop()
})

test('a signed URL passing the budget does not let the same chain through unsigned', async () => {
  const a = gravatar.addEmail('warm-checks-a@example.com')
  const b = gravatar.addEmail('warm-checks-b@example.com')
  const signed = await headshot.get(headshot.sign(`/image/gravatar/${MEDIUM}/v2/${a.md5}.jpg`))
  expect(signed.status).toBe(200)
  await signed.arrayBuffer()
  // Another picture, so no derived image of it exists; another version spelling each time, so the
  // hot cache does not answer: refused before its picture is fetched, each time.
  const calls = gravatar.requests.count('avatar')
  for (const v of [3, 4]) {
    const again = await headshot.get(`/image/gravatar/${MEDIUM}/v${v}/${b.md5}.jpg`)
    expect(again.status).toBe(400)
  }
  expect(gravatar.requests.count('avatar')).toBe(calls)
})

test('a named transformation reloaded with a costlier meaning is checked again', async () => {
  const { md5 } = gravatar.addEmail('warm-checks-c@example.com')
  for (const v of [1, 2]) {
    const response = await headshot.get(`/image/gravatar/t_x/v${v}/${md5}.jpg`)
    expect(response.status).toBe(200)
    await response.arrayBuffer()
  }
  writeFileSync(named, JSON.stringify({ x: ATTACK }))
  expect(headshot.app.reloadNamedTransformations()).toBeUndefined()
  const derives = await headshot.metric('derives_total')
  const response = await headshot.get(`/image/gravatar/t_x/v3/${md5}.jpg`)
  expect(response.status).toBe(400)
  expect(response.headers.get('x-cld-error')).toMatch(/too costly/)
  expect(await headshot.metric('derives_total')).toBe(derives) // refused on the plan, never sent to a worker
})
