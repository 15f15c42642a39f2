/**
 * The work budget at the delivery route: a transformation is priced on its plan before anything is
 * decoded, and one over budget is a 400 that never reaches a worker. Unsigned URLs spend the small
 * budget; signed URLs, the operator's named transformations and the API's eager derivations the
 * large one. A derived image that exists already is served whatever it cost to make.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { createPlaceholderRenderer, createPlaceholders } from '../../src/delivery/placeholders.ts'
import { DEFAULT_WORK_BUDGETS } from '../../src/image/budget.ts'
import { DEFAULT_IMAGE_LIMITS } from '../../src/image/limits.ts'
import { deriveImage } from '../../src/image/pipeline.ts'
import type { DeriveInput } from '../../src/image/types.ts'
import { parseChain } from '../../src/url/component.ts'
import { makePicture } from '../support/fakes/images.ts'
import { probeImage, startHeadshot, type Headshot } from '../support/headshot.ts'

/** The review's URL: 8.4 s of a core and 1.7 GB of memory for one unsigned request. */
const ATTACK = 'c_scale,h_4096,w_4096,e_blur:2000'
/** ~8 work units on the fake's 2048² Gravatar: over the small test budget, inside the large one. */
const MEDIUM = 'c_fill,h_600,w_600,e_blur:500'

let gravatar: FakeGravatar
let defaults: Headshot
let small: Headshot
const costly = /^Transformation too costly: \d+ work units \((un)?signed budget \d+\)$/

beforeAll(async () => {
  gravatar = startFakeGravatar()
  defaults = await startHeadshot({ ...gravatar.env, HEADSHOT_MAX_WORK: '200' })
  const placeholders = mkdtempSync(join(tmpdir(), 'headshot-budget-placeholders-'))
  writeFileSync(join(placeholders, 'anon.png'), await makePicture('anon', 400, 400, 'png'))
  const transformations = join(placeholders, 'named.json')
  writeFileSync(transformations, JSON.stringify({ medium: MEDIUM }))
  small = await startHeadshot({
    ...gravatar.env,
    HEADSHOT_MAX_WORK_UNSIGNED: '5',
    HEADSHOT_MAX_WORK: '30',
    HEADSHOT_PLACEHOLDERS_DIR: placeholders,
    HEADSHOT_TRANSFORMATIONS_FILE: transformations,
  })
})
afterAll(async () => {
  await defaults.close()
  await small.close()
  gravatar.stop()
})

describe("the review's URL under the default budgets", () => {
  test('unsigned: a 400 naming cost and budget, cacheable briefly, no upstream call and no transformation', async () => {
    const { md5 } = gravatar.addEmail('attacker@example.com')
    const calls = gravatar.requests.count('avatar')
    const derives = await defaults.metric('derives_total')
    const response = await defaults.get(`/image/gravatar/${ATTACK}/${md5}.png`)
    expect(response.status).toBe(400)
    expect(response.headers.get('x-cld-error')).toMatch(costly)
    expect(response.headers.get('x-cld-error')).toContain('(unsigned budget 120)')
    expect(response.headers.get('cache-control')).toBe('public, max-age=60')
    expect(await defaults.metric('derives_total')).toBe(derives)
    // What the URL alone fixes (a 4096² blur) is over budget on any source: the picture is not even fetched.
    expect(gravatar.requests.count('avatar')).toBe(calls)
    expect((await defaults.get(`/image/gravatar/${ATTACK}/e_grayscale/${md5}.webp`)).status).toBe(400)
    expect(gravatar.requests.count('avatar')).toBe(calls)
    expect(await defaults.metric('derives_total')).toBe(derives)
  })

  test('signed, it is refused too when it costs more than the signed budget (here 200)', async () => {
    const { md5 } = gravatar.addEmail('signed-attacker@example.com')
    const derives = await defaults.metric('derives_total')
    const response = await defaults.get(defaults.sign(`/image/gravatar/${ATTACK}/${md5}.png`))
    expect(response.status).toBe(400)
    expect(response.headers.get('x-cld-error')).toContain('(signed budget 200)')
    expect(await defaults.metric('derives_total')).toBe(derives)
  })

  test('ordinary avatar URLs are delivered unsigned', async () => {
    const { md5 } = gravatar.addEmail('ordinary@example.com')
    for (const chain of ['c_thumb,g_face,h_150,w_150/r_max/e_grayscale/dpr_2.0', 'c_fill,h_1000,w_1000/e_sharpen']) {
      const response = await defaults.get(`/image/gravatar/${chain}/${md5}.png`)
      expect(response.status).toBe(200)
    }
  })
})

describe('which budget a request spends', () => {
  test('unsigned: the small one; signed: the large one (and the derived image is made)', async () => {
    const { md5 } = gravatar.addEmail('medium@example.com')
    const path = `/image/gravatar/${MEDIUM}/${md5}.jpg`
    const unsigned = await small.get(path)
    expect(unsigned.status).toBe(400)
    expect(unsigned.headers.get('x-cld-error')).toContain('(unsigned budget 5)')

    const derives = await small.metric('derives_total')
    const signed = await small.get(small.sign(path))
    expect(signed.status).toBe(200)
    const size = probeImage(new Uint8Array(await signed.arrayBuffer()))
    expect(size.ok && [size.value.width, size.value.height]).toEqual([600, 600])
    expect(await small.metric('derives_total')).toBe(derives + 1)

    // Now that it exists, the unsigned URL is served from the store: nothing left to spend.
    const again = await small.get(path)
    expect(again.status).toBe(200)
    expect(await small.metric('derives_total')).toBe(derives + 1)
  })

  test("a chain of the operator's named transformations spends the signed budget", async () => {
    const { md5 } = gravatar.addEmail('named@example.com')
    expect((await small.get(`/image/gravatar/t_medium/${md5}.jpg`)).status).toBe(200)
    // Adding to it makes it the caller's own chain again.
    const extended = await small.get(`/image/gravatar/t_medium/e_grayscale/${md5}.jpg`)
    expect(extended.status).toBe(400)
    expect(extended.headers.get('x-cld-error')).toContain('(unsigned budget 5)')
  })

  test('the API spends the signed budget on eager derivations, and refuses beyond it before deriving', async () => {
    const { md5 } = gravatar.addEmail('eager@example.com')
    expect((await small.get(`/image/gravatar/${md5}.jpg`)).status).toBe(200)
    const picture = (await small.app.manage.get('gravatar', md5))!
    const made = await small.app.manage.eager(picture, [MEDIUM])
    expect(made[0]?.derivative.width).toBe(600)
    const derives = await small.metric('derives_total')
    const refused = await small.app.manage.eager(picture, ['c_scale,h_2000,w_2000/e_blur:2000']).catch((e) => e)
    expect(refused).toMatchObject({ status: 400 })
    expect(String(refused.message)).toMatch(costly)
    expect(await small.metric('derives_total')).toBe(derives)
  })

  test('too many steps for an unsigned URL', async () => {
    const { md5 } = gravatar.addEmail('steps@example.com')
    const chain = ['c_fill,h_20,w_20', ...Array.from({ length: 8 }, () => 'e_negate')].join('/')
    const response = await small.get(`/image/gravatar/${chain}/${md5}.jpg`)
    expect(response.status).toBe(400)
    expect(response.headers.get('x-cld-error')).toBe('Transformation too costly: 9 steps (unsigned budget 8)')
    expect((await small.get(small.sign(`/image/gravatar/${chain}/${md5}.jpg`))).status).toBe(200)
  })

  test('a placeholder (d_) is priced like the picture it stands in for', async () => {
    const missing = 'f'.repeat(32) // no such Gravatar user: the placeholder answers
    const derives = await small.metric('derives_total')
    const refused = await small.get(`/image/gravatar/d_anon.png,c_fill,h_1000,w_1000,e_blur:500/${missing}.png`)
    expect(refused.status).toBe(400)
    expect(refused.headers.get('x-cld-error')).toContain('(unsigned budget 5)')
    expect(await small.metric('derives_total')).toBe(derives)
    const cheap = await small.get(`/image/gravatar/d_anon.png,c_fill,h_40,w_40/${missing}.png`)
    expect(cheap.status).toBe(200)
    expect(cheap.headers.get('x-cld-error')).toContain('Resource not found')
  })

  test('the placeholder renderer refuses before handing anything to the workers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'headshot-budget-renderer-'))
    writeFileSync(join(dir, 'anon.png'), await makePicture('anon', 400, 400, 'png'))
    const derived: DeriveInput[] = []
    const renderer = createPlaceholderRenderer(
      createPlaceholders(dir),
      async (input) => {
        derived.push(input)
        return deriveImage(input)
      },
      DEFAULT_IMAGE_LIMITS,
    )
    const chain = parseChain('c_fill,h_1000,w_1000,e_blur:500')
    if (!chain.ok) throw chain.error
    const budget = { ...DEFAULT_WORK_BUDGETS.unsigned, maxWork: 5 }
    const refused = await renderer.render('anon.png', chain.value.components, () => 'png', { budget }).catch((e) => e)
    expect(refused).toMatchObject({ status: 400 })
    expect(derived).toHaveLength(0)
    expect(await renderer.render('anon.png', chain.value.components, () => 'png')).toMatchObject({ format: 'png' })
    expect(derived).toHaveLength(1)
  })
})

describe('a transformation past its deadline (HEADSHOT_DERIVE_TIMEOUT)', () => {
  test('is ended and answered 503, not kept by a CDN; the next request is served', async () => {
    const workers = await startHeadshot({ ...gravatar.env, HEADSHOT_DERIVE_TIMEOUT: '1500ms' }, { inlineDerive: false })
    try {
      const { md5 } = gravatar.addEmail('slow@example.com')
      // Within the signed budget, but seconds of work: longer than this instance allows.
      const slow = await workers.get(workers.sign(`/image/gravatar/${ATTACK}/e_blur:2000/${md5}.png`))
      expect(slow.status).toBe(503)
      expect(slow.headers.get('x-cld-error')).toBe('Transformation took longer than 1500 ms')
      expect(slow.headers.get('cache-control')).toBe('no-store')
      const next = await workers.get(`/image/gravatar/c_fill,h_40,w_40/${md5}.jpg`)
      expect([next.status, next.headers.get('x-cld-error')]).toEqual([200, null])
    } finally {
      await workers.close()
    }
  })
})

describe('a client that goes away', () => {
  let workers: Headshot
  beforeAll(async () => {
    // One worker, so a slow signed job keeps everything else queued; its deadline ends the test's wait.
    workers = await startHeadshot(
      { ...gravatar.env, HEADSHOT_WORKERS: '1', HEADSHOT_DERIVE_TIMEOUT: '1500ms' },
      { inlineDerive: false, hotCacheTtlMs: 0 },
    )
  })
  afterAll(() => workers.close())

  async function pool(): Promise<{ busy: number; queued: number }> {
    const ready = (await (await workers.get('/readyz')).json()) as { checks: { workers: { detail: string } } }
    const [, busy, queued] = /^(\d+) busy, (\d+) queued$/.exec(ready.checks.workers.detail)!
    return { busy: Number(busy), queued: Number(queued) }
  }
  const until = async (ok: (p: { busy: number; queued: number }) => boolean) => {
    while (!ok(await pool())) await Bun.sleep(5)
  }
  /** A slow signed transformation that occupies the one worker until its deadline. */
  const occupy = (md5: string) =>
    workers.get(workers.sign(`/image/gravatar/${ATTACK}/e_blur:2000/e_blur:2000/${md5}.png`))
  const derivedKeys = async (md5: string) =>
    (await workers.app.manage.derivatives((await workers.app.manage.get('gravatar', md5))!)).map((d) => d.key)

  test('its queued transformation leaves the queue and never runs', async () => {
    const { md5 } = gravatar.addEmail('gone@example.com')
    expect((await workers.get(`/image/gravatar/${md5}.jpg`)).status).toBe(200) // the original, no worker
    const slow = occupy(md5)
    await until((p) => p.busy === 1)
    const controller = new AbortController()
    const gone = workers.get(`/image/gravatar/c_fill,h_50,w_50/${md5}.jpg`, { signal: controller.signal })
    await until((p) => p.queued === 1)
    controller.abort()
    expect((await gone).status).toBe(499)
    expect(await pool()).toEqual({ busy: 1, queued: 0 })
    expect((await slow).status).toBe(503)
    expect(await derivedKeys(md5)).not.toContain('c_fill,h_50,w_50/jpg') // it never ran
    // Nothing is left stuck: the same URL asked again is made.
    expect((await workers.get(`/image/gravatar/c_fill,h_50,w_50/${md5}.jpg`)).status).toBe(200)
  })

  test('a transformation shared with a client that stays is still made, once', async () => {
    const { md5 } = gravatar.addEmail('shared@example.com')
    expect((await workers.get(`/image/gravatar/${md5}.jpg`)).status).toBe(200)
    const slow = occupy(md5)
    await until((p) => p.busy === 1)
    const derives = await workers.metric('derives_total')
    const controller = new AbortController()
    const path = `/image/gravatar/c_fill,h_60,w_60/${md5}.jpg`
    const gone = workers.get(path, { signal: controller.signal })
    const staying = workers.get(path)
    await until((p) => p.queued === 1)
    controller.abort()
    expect((await gone).status).toBe(499)
    expect(await pool()).toEqual({ busy: 1, queued: 1 })
    expect((await slow).status).toBe(503)
    expect((await staying).status).toBe(200)
    expect(await workers.metric('derives_total')).toBe(derives + 1)
    expect(await derivedKeys(md5)).toContain('c_fill,h_60,w_60/jpg')
  })
})
