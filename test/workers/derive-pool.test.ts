import { afterAll, describe, expect, test } from 'bun:test'
import { probeImage } from '../../src/lib/image-header.ts'
import { DEFAULT_IMAGE_LIMITS } from '../../src/image/limits.ts'
import type { DeriveInput } from '../../src/image/types.ts'
import { HttpError } from '../../src/lib/http-error.ts'
import { parseChain } from '../../src/url/component.ts'
import { createDerivePool } from '../../src/workers/derive-pool.ts'
import { makePicture } from '../support/fakes/images.ts'

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
