import { afterAll, describe, expect, test } from 'bun:test'
import { probeImage } from '../../src/lib/image-header.ts'
import { DEFAULT_IMAGE_LIMITS } from '../../src/image/limits.ts'
import type { DeriveInput } from '../../src/image/types.ts'
import { HttpError } from '../../src/lib/http-error.ts'
import { parseChain } from '../../src/url/component.ts'
import { createDerivePool } from '../../src/workers/derive-pool.ts'
import { makePicture } from '../support/fakes/images.ts'
import { pngBomb } from '../support/hostile-images.ts'

const workerUrl = new URL('../../src/workers/derive-worker.ts', import.meta.url)
const pools: Array<{ close(): Promise<void> }> = []
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()))
})

async function input(chainText: string, side = 200): Promise<DeriveInput> {
  const chain = parseChain(chainText)
  if (!chain.ok) throw new Error(chain.error.message)
  return {
    bytes: await makePicture('pool', side, side, 'jpg'),
    format: 'jpg',
    chain: chain.value.components,
    output: 'png',
    faces: [],
  }
}

describe('derive pool', () => {
  test('runs transformations in workers and returns the encoded image', async () => {
    const pool = createDerivePool({ workerUrl, limits: DEFAULT_IMAGE_LIMITS, size: 2 })
    pools.push(pool)
    const outputs = await Promise.all([10, 20, 30].map(async (w) => pool.derive(await input(`c_scale,w_${w}`))))
    expect(outputs.map((o) => [o.format, o.width])).toEqual([
      ['png', 10],
      ['png', 20],
      ['png', 30],
    ])
    const probe = probeImage(outputs[1]!.bytes)
    expect(probe.ok && probe.value).toMatchObject({ format: 'png', width: 20, height: 20 })
  })

  test('a bad transformation in a worker stays a 400 HttpError across the thread boundary, not a 500', async () => {
    const pool = createDerivePool({ workerUrl, limits: { ...DEFAULT_IMAGE_LIMITS, maxOutputSide: 100 }, size: 1 })
    pools.push(pool)
    const failure = await pool.derive(await input('c_scale,w_500')).catch((e) => e)
    expect(failure).toBeInstanceOf(HttpError)
    expect((failure as HttpError).status).toBe(400)
    expect(String(failure.message)).toContain('Maximum image size exceeded')
    // The worker survives and takes the next job.
    expect((await pool.derive(await input('c_scale,w_50'))).width).toBe(50)
  })

  test('refuses new work with a 429 (Retry-After 1) when every worker is busy and the queue is full', async () => {
    const pool = createDerivePool({ workerUrl, limits: DEFAULT_IMAGE_LIMITS, size: 1, maxQueue: 1 })
    pools.push(pool)
    const job = await input('c_scale,w_40', 400)
    const first = pool.derive(job)
    const second = pool.derive(job)
    const third = pool.derive(job).catch((e) => e)
    expect(await third).toMatchObject({ status: 429, headers: { 'Retry-After': '1' } })
    expect((await first).width).toBe(40)
    expect((await second).width).toBe(40)
  })

  test('close rejects queued work and refuses new work', async () => {
    const pool = createDerivePool({ workerUrl, limits: DEFAULT_IMAGE_LIMITS, size: 1 })
    const job = await input('c_scale,w_30', 300)
    const running = pool.derive(job).catch((e) => e)
    const queued = pool.derive(job).catch((e) => e)
    await pool.close()
    expect(await queued).toBeInstanceOf(Error)
    expect(await running).toBeInstanceOf(Error)
    expect(await pool.derive(job).catch((e) => e)).toBeInstanceOf(Error)
  })
})

describe('deadline', () => {
  /** Three 4096² blurs of a 2048² picture: several seconds of a core, far past a 1 s deadline. */
  async function slow(): Promise<DeriveInput> {
    const chain = parseChain('c_scale,h_4096,w_4096,e_blur:2000/e_blur:2000/e_blur:2000')
    if (!chain.ok) throw chain.error
    return {
      bytes: await makePicture('slow', 2048, 2048, 'jpg'),
      format: 'jpg',
      chain: chain.value.components,
      output: 'png',
      faces: [],
    }
  }

  test('a job past its deadline fails with a 503 and its worker is replaced: the pool keeps its size', async () => {
    const pool = createDerivePool({ workerUrl, limits: DEFAULT_IMAGE_LIMITS, size: 1, timeoutMs: 1000 })
    pools.push(pool)
    const failure = await pool.derive(await slow()).catch((e) => e)
    expect(failure).toBeInstanceOf(HttpError)
    expect(failure).toMatchObject({ status: 503, message: 'Transformation took longer than 1 s' })
    expect(pool.replaced).toBe(1)
    expect(pool.size).toBe(1)
    expect(pool.busy).toBe(0)
    // The one worker is a fresh one, free at once: a small job is done long before the blurs would be.
    const next = performance.now()
    expect((await pool.derive(await input('c_scale,w_30'))).width).toBe(30)
    expect(performance.now() - next).toBeLessThan(3000)
  })

  test('queued jobs run on the replacement worker; face detection has the same deadline', async () => {
    const pool = createDerivePool({ workerUrl, limits: DEFAULT_IMAGE_LIMITS, size: 1, timeoutMs: 1000 })
    pools.push(pool)
    const stuck = pool.derive(await slow()).catch((e) => e)
    const queued = pool.derive(await input('c_scale,w_25'))
    expect(await stuck).toMatchObject({ status: 503 })
    expect((await queued).width).toBe(25)

    const faces = createDerivePool({ workerUrl, limits: DEFAULT_IMAGE_LIMITS, size: 1, timeoutMs: 1 })
    pools.push(faces)
    const photo = await makePicture('faces', 2048, 2048, 'jpg')
    expect(await faces.detectFaces(photo, 'jpg').catch((e) => e)).toMatchObject({
      status: 503,
      message: 'Face detection took longer than 1 ms',
    })
    expect(faces.size).toBe(1)
  })
})

describe('cancellation', () => {
  async function busyPool() {
    // One worker, kept busy by a job far past a short deadline (so the test does not wait for it).
    const pool = createDerivePool({ workerUrl, limits: DEFAULT_IMAGE_LIMITS, size: 1, timeoutMs: 1500 })
    pools.push(pool)
    const chain = parseChain('c_scale,h_4096,w_4096,e_blur:2000/e_blur:2000/e_blur:2000')
    if (!chain.ok) throw chain.error
    const bytes = await makePicture('busy', 2048, 2048, 'jpg')
    const slow = pool.derive({ bytes, format: 'jpg', chain: chain.value.components, output: 'png', faces: [] })
    const settled = slow.catch((e) => e)
    while (pool.busy === 0) await Bun.sleep(10)
    return { pool, settled }
  }

  test('a queued job whose signal aborts leaves the queue at once and never runs', async () => {
    const { pool, settled } = await busyPool()
    const controller = new AbortController()
    const queued = pool.derive(await input('c_scale,w_20'), { signal: controller.signal }).catch((e) => e)
    const faces = pool.detectFaces(await makePicture('f', 64, 64, 'jpg'), 'jpg', { signal: controller.signal })
    expect(pool.queued).toBe(2)
    controller.abort(new Error('client closed'))
    expect(pool.queued).toBe(0)
    expect(await queued).toMatchObject({ message: 'client closed' })
    expect(await faces.catch((e) => e)).toMatchObject({ message: 'client closed' })
    expect(await settled).toMatchObject({ status: 503 }) // the busy job, cut by its deadline
    expect(pool.started).toBe(1) // only the busy job ever reached a worker
    expect((await pool.derive(await input('c_scale,w_21'))).width).toBe(21)
    expect(pool.started).toBe(2)
  })

  test('an aborted signal on a running job lets it finish with its result (the caller may store it)', async () => {
    const pool = createDerivePool({ workerUrl, limits: DEFAULT_IMAGE_LIMITS, size: 1 })
    pools.push(pool)
    const controller = new AbortController()
    const running = pool.derive(await input('c_scale,w_40', 1600), { signal: controller.signal })
    while (pool.started === 0) await Bun.sleep(1)
    controller.abort(new Error('client closed'))
    expect((await running).width).toBe(40)
  })
})

describe('recycling a worker whose memory grew', () => {
  const MB = 1024 * 1024
  /**
   * Between what the codecs hold at start (mozjpeg's encoder and libwebp's decoder, 17 MB each)
   * and what a 2500² JPEG leaves in mozjpeg's memory (over 100 MB): small jobs stay under it.
   */
  const recycleBytes = 64 * MB

  async function job(
    chainText: string,
    output: DeriveInput['output'],
    source: Uint8Array,
    format: DeriveInput['format'],
  ) {
    const chain = parseChain(chainText)
    if (!chain.ok) throw chain.error
    return { bytes: source, format, chain: chain.value.components, output, faces: [] } satisfies DeriveInput
  }

  test('a large JPEG encode: its worker is replaced once no job waits, the pool keeps its size', async () => {
    const pool = createDerivePool({ workerUrl, limits: DEFAULT_IMAGE_LIMITS, size: 1, recycleBytes })
    pools.push(pool)
    const small = await makePicture('recycle', 200, 200, 'jpg')
    const [first, large, second, last] = await Promise.all([
      job('c_scale,w_30', 'jpg', small, 'jpg'),
      job('c_pad,h_2500,w_2500', 'jpg', small, 'jpg'),
      job('c_scale,w_31', 'jpg', small, 'jpg'),
      job('c_scale,w_32', 'png', small, 'jpg'),
    ])
    // The recycles counted when each job is answered. One worker: the jobs wait behind the large one.
    const seen: number[] = []
    const noted = <T>(answer: Promise<T>) => answer.then((value) => (seen.push(pool.recycled), value))
    const results = await Promise.all([
      noted(pool.derive(first)),
      noted(pool.derive(large)),
      noted(pool.derive(second)),
      noted(pool.detectFaces(small, 'jpg')),
      noted(pool.derive(last)),
    ])
    expect(results.map((r) => ('width' in r ? r.width : 'faces'))).toEqual([30, 2500, 31, 'faces', 32])
    // Every job answered; the grown worker served the ones waiting (a fresh worker would cost each
    // of them its start), and was replaced when the queue was empty.
    expect(seen).toEqual([0, 0, 0, 0, 1])
    expect(pool.replaced).toBe(0)
    expect(pool.size).toBe(1)
    // The fresh worker serves, holding what a worker holds at start again.
    expect((await pool.derive(first)).width).toBe(30)
    expect(pool.recycled).toBe(1)
    expect(pool.wasmBytes).toBeGreaterThan(0)
    expect(pool.wasmBytes).toBeLessThan(recycleBytes)
  })

  test('a large WebP decode is recycled too; small jobs in any format are not', async () => {
    const pool = createDerivePool({ workerUrl, limits: DEFAULT_IMAGE_LIMITS, size: 2, recycleBytes })
    pools.push(pool)
    const jpeg = await makePicture('recycle', 300, 300, 'jpg')
    const webp = await makePicture('recycle', 300, 300, 'webp')
    for (const output of ['jpg', 'png', 'webp', 'gif'] as const) {
      await pool.derive(await job('c_fill,h_100,w_120', output, jpeg, 'jpg'))
      await pool.derive(await job('c_fill,h_100,w_120', output, webp, 'webp'))
    }
    expect(pool.recycled).toBe(0)
    const before = pool.wasmBytes

    const large = await makePicture('recycle-large', 3500, 3500, 'webp')
    const output = await pool.derive(await job('c_scale,w_50', 'png', large, 'webp'))
    expect(output.width).toBe(50)
    expect(pool.recycled).toBe(1)
    expect(pool.wasmBytes).toBeLessThanOrEqual(before)
  })

  test("a large PNG decode is not: the decoder's instance lives for one call, its memory is collected", async () => {
    const pool = createDerivePool({ workerUrl, limits: DEFAULT_IMAGE_LIMITS, size: 1, recycleBytes })
    pools.push(pool)
    const output = await pool.derive(await job('c_scale,w_50', 'png', pngBomb(4000, 4000), 'png'))
    expect(output.width).toBe(50)
    expect(pool.recycled).toBe(0)
    expect(pool.wasmBytes).toBeLessThan(recycleBytes)
  })

  test('without a threshold (the default) no worker is ever recycled', async () => {
    const pool = createDerivePool({ workerUrl, limits: DEFAULT_IMAGE_LIMITS, size: 1 })
    pools.push(pool)
    const small = await makePicture('recycle', 200, 200, 'jpg')
    expect((await pool.derive(await job('c_pad,h_2500,w_2500', 'jpg', small, 'jpg'))).width).toBe(2500)
    expect(pool.recycled).toBe(0)
    expect(pool.wasmBytes).toBeGreaterThan(recycleBytes)
  })
})
