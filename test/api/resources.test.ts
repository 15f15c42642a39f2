/**
 * Admin API through the official cloudinary SDK: listing (by network and across networks, paged over
 * several hundred pictures), details with derived images, deletion, and the allowance headers.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { startFakeFacebook, type FakeFacebook } from '../../plugins/facebook/fake.ts'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { startHeadshot, TEST_SECRET, type Headshot } from '../support/headshot.ts'
import { loadSdk, sdkError, type CloudinaryV2 } from '../support/sdk.ts'

let facebook: FakeFacebook
let gravatar: FakeGravatar
let headshot: Headshot
let sdk: CloudinaryV2
const hashes: string[] = []
const PICTURES = 320

async function ingest(paths: string[], concurrency = 16): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < paths.length) {
        const response = await headshot.get(paths[next++]!)
        if (response.status !== 200) throw new Error(`${response.status} ${response.headers.get('x-cld-error')}`)
      }
    }),
  )
}

/** Every page of a listing, through the SDK. */
async function listAll(options: Record<string, unknown>): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = []
  let next_cursor: string | undefined
  let pages = 0
  do {
    const page = await sdk.api.resources({ ...options, ...(next_cursor ? { next_cursor } : {}) })
    ids.push(...page.resources.map((r: { type: string; public_id: string }) => `${r.type}/${r.public_id}`))
    next_cursor = page.next_cursor
    pages++
  } while (next_cursor && pages < 200)
  return { ids, pages }
}

beforeAll(async () => {
  facebook = startFakeFacebook()
  gravatar = startFakeGravatar()
  for (let i = 0; i < PICTURES; i++) hashes.push(gravatar.addEmail(`person${i}@example.com`).md5)
  for (const id of ['7001', '7002', '7003']) facebook.addUser(id, { seed: `fb-${id}`, side: 200 })
  headshot = await startHeadshot({ ...facebook.env, ...gravatar.env, HEADSHOT_ADMIN_RATE_LIMIT: '100000' })
  await ingest(hashes.map((hash) => `/image/gravatar/${hash}.jpg`))
  await ingest(['7001', '7002', '7003'].map((id) => headshot.sign(`/image/facebook/${id}.jpg`)))
  // A "no picture" answer is remembered, but it is not a picture to list.
  expect((await headshot.get('/image/gravatar/00000000000000000000000000000000.jpg')).status).toBe(404)
  sdk = loadSdk({ baseUrl: headshot.listen(), cloudName: 'local', apiKey: '123456', apiSecret: TEST_SECRET })
}, 60_000)

afterAll(async () => {
  await headshot.close()
  facebook.stop()
  gravatar.stop()
})

describe('listing', () => {
  test('pages through several hundred pictures of one network: each exactly once, newest first', async () => {
    const { ids, pages } = await listAll({ type: 'gravatar', max_results: 50 })
    expect(ids).toHaveLength(PICTURES)
    expect(new Set(ids).size).toBe(PICTURES)
    expect(pages).toBe(Math.ceil(PICTURES / 50))
    const first = await sdk.api.resources({ type: 'gravatar', max_results: 500 })
    const created = first.resources.map((r: { created_at: string }) => Date.parse(r.created_at))
    expect(created).toEqual([...created].sort((a, b) => b - a))
  })

  test('without a type every network is listed; the default page is 10', async () => {
    const { ids } = await listAll({ max_results: 100 })
    expect(ids.filter((id) => id.startsWith('facebook/')).sort()).toEqual([
      'facebook/7001',
      'facebook/7002',
      'facebook/7003',
    ])
    expect(ids).toHaveLength(PICTURES + 3)
    expect((await sdk.api.resources({ type: 'gravatar' })).resources).toHaveLength(10)
  })

  test('resources carry the fields the SDK types declare', async () => {
    const { resources } = await sdk.api.resources({ type: 'facebook', max_results: 1 })
    expect(resources[0]).toMatchObject({
      type: 'facebook',
      resource_type: 'image',
      format: 'jpg',
      width: 200,
      height: 200,
      placeholder: false,
      access_mode: 'public',
    })
    expect(resources[0].secure_url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/local\/image\/facebook\/v\d+\/700\d\.jpg$/)
  })

  test('prefix and ascending direction', async () => {
    const prefix = hashes[0]!.slice(0, 2)
    const { ids } = await listAll({ type: 'gravatar', prefix, max_results: 500 })
    expect(ids.sort()).toEqual(
      hashes
        .filter((h) => h.startsWith(prefix))
        .map((h) => `gravatar/${h}`)
        .sort(),
    )
    const asc = await sdk.api.resources({ type: 'gravatar', direction: 'asc', max_results: 500 })
    const created = asc.resources.map((r: { created_at: string }) => Date.parse(r.created_at))
    expect(created).toEqual([...created].sort((a, b) => a - b))
  })

  test('pictures added and deleted between pages cause no duplicates and no gaps', async () => {
    const seen: string[] = []
    let next_cursor: string | undefined
    let page = 0
    const victim = hashes[PICTURES - 100]!
    let deletedVictim = false
    do {
      const result = await sdk.api.resources({
        type: 'gravatar',
        max_results: 40,
        ...(next_cursor ? { next_cursor } : {}),
      })
      seen.push(...result.resources.map((r: { public_id: string }) => r.public_id))
      next_cursor = result.next_cursor
      if (page++ === 1) {
        // Meanwhile: a new picture arrives, and one not yet listed is deleted.
        const extra = gravatar.addEmail('late@example.com').md5
        await ingest([`/image/gravatar/${extra}.jpg`])
        await sdk.api.delete_resources([victim], { type: 'gravatar' })
        deletedVictim = true
      }
    } while (next_cursor)
    expect(deletedVictim).toBe(true)
    expect(new Set(seen).size).toBe(seen.length)
    expect(seen).not.toContain(victim)
    expect(seen).toHaveLength(PICTURES - 1) // every survivor that existed throughout
    // Put the victim back for the other tests.
    await ingest([`/image/gravatar/${victim}.jpg`])
  })

  test('bad parameters are 400s with a message', async () => {
    expect(await sdkError(sdk.api.resources({ type: 'gravatar', max_results: 501 }))).toMatchObject({ http_code: 400 })
    const cursor = await sdkError(sdk.api.resources({ type: 'gravatar', next_cursor: 'garbage!' }))
    expect(cursor).toEqual({ http_code: 400, message: 'Invalid next_cursor: not base64url' })
    const first = await sdk.api.resources({ type: 'gravatar', max_results: 5 })
    const foreign = await sdkError(sdk.api.resources({ type: 'facebook', next_cursor: first.next_cursor }))
    expect(foreign).toEqual({ http_code: 400, message: 'Invalid next_cursor: it belongs to another type' })
    expect(await sdkError(sdk.api.resources({ type: 'myspace' }))).toEqual({
      http_code: 400,
      message: 'Invalid delivery type myspace',
    })
  })

  test('calls report the hourly allowance as rate_limit_* fields', async () => {
    const first = await sdk.api.resources({ type: 'facebook' })
    const second = await sdk.api.resources({ type: 'facebook' })
    expect(first.rate_limit_allowed).toBe(100000)
    expect(second.rate_limit_remaining).toBe(first.rate_limit_remaining - 1)
    expect(first.rate_limit_reset_at.getTime()).toBeGreaterThan(Date.now())
  })

  test('wrong credentials are refused without echoing them', async () => {
    const wrong = loadSdk({ baseUrl: headshot.listen(), cloudName: 'local', apiKey: '123456', apiSecret: 'nope' })
    expect(await sdkError(wrong.api.resources({ type: 'facebook' }))).toEqual({
      http_code: 401,
      message: 'api_secret mismatch',
    })
    const other = loadSdk({
      baseUrl: headshot.listen(),
      cloudName: 'local',
      apiKey: 'attacker-key',
      apiSecret: TEST_SECRET,
    })
    expect(await sdkError(other.api.resources({ type: 'facebook' }))).toEqual({
      http_code: 401,
      message: 'Invalid api_key',
    })
  })
})

describe('one resource', () => {
  test('details list the derived images with their URLs', async () => {
    const hash = hashes[1]!
    expect((await headshot.get(`/image/gravatar/c_fill,h_30,w_20/${hash}.png`)).status).toBe(200)
    const resource = await sdk.api.resource(hash, { type: 'gravatar' })
    expect(resource.public_id).toBe(hash)
    expect(resource.derived).toHaveLength(1)
    expect(resource.derived[0]).toMatchObject({
      transformation: 'c_fill,h_30,w_20',
      format: 'png',
      width: 20,
      height: 30,
    })
    expect(resource.derived[0].secure_url).toContain(
      `/local/image/gravatar/c_fill,h_30,w_20/v${resource.version}/${hash}.png`,
    )
  })

  test('an unknown picture is a 404 Resource not found', async () => {
    expect(await sdkError(sdk.api.resource('1'.repeat(32), { type: 'gravatar' }))).toEqual({
      http_code: 404,
      message: `Resource not found - ${'1'.repeat(32)}`,
    })
  })
})

describe('deleting', () => {
  test('delete_resources removes rows, derivatives and files; a later request fetches again', async () => {
    // The fake draws each person in one of 360 hues, so some pictures share bytes (and one file);
    // take one whose file is its own, to see it go.
    const { resources } = await sdk.api.resources({ type: 'gravatar', max_results: 500 })
    const byEtag = Map.groupBy(resources as Array<{ etag: string; public_id: string }>, (r) => r.etag)
    const a = [...byEtag.values()].find((group) => group.length === 1)![0]!.public_id
    const b = hashes.find((h) => h !== a)!
    await headshot.get(`/image/gravatar/c_scale,w_10/${a}.jpg`)
    const before = await sdk.api.resource(a, { type: 'gravatar' })
    const blobFiles = [before.etag, before.derived[0].id].map((prefix: string) =>
      join(headshot.dataDir, 'blobs', prefix.slice(0, 2), prefix.slice(2, 4)),
    )
    const present = (dir: string, prefix: string) => readdirSync(dir).some((name) => name.startsWith(prefix))
    expect(present(blobFiles[0]!, before.etag)).toBe(true)
    const result = await sdk.api.delete_resources([a, b, 'f'.repeat(32)], { type: 'gravatar' })
    expect(result.deleted).toEqual({ [a]: 'deleted', [b]: 'deleted', ['f'.repeat(32)]: 'not_found' })
    expect(result.deleted_counts[a]).toEqual({ original: 1, derived: 1 })
    expect(result.partial).toBe(false)
    expect(await sdkError(sdk.api.resource(a, { type: 'gravatar' }))).toMatchObject({ http_code: 404 })
    expect(present(blobFiles[0]!, before.etag)).toBe(false)
    expect(present(blobFiles[1]!, before.derived[0].id)).toBe(false)
    const calls = gravatar.requests.count('avatar')
    expect((await headshot.get(`/image/gravatar/${a}.jpg`)).status).toBe(200)
    expect(gravatar.requests.count('avatar')).toBe(calls + 1)
  })

  test('keep_original drops only the derived images', async () => {
    const hash = hashes[4]!
    await headshot.get(`/image/gravatar/c_scale,w_12/${hash}.jpg`)
    const result = await sdk.api.delete_resources([hash], { type: 'gravatar', keep_original: true })
    expect(result.deleted_counts[hash]).toEqual({ original: 0, derived: 1 })
    const resource = await sdk.api.resource(hash, { type: 'gravatar' })
    expect(resource.derived).toEqual([])
  })

  test('more than 100 ids in one call is refused', async () => {
    expect(await sdkError(sdk.api.delete_resources(hashes.slice(0, 101), { type: 'gravatar' }))).toMatchObject({
      http_code: 400,
    })
  })

  test('delete_resources_by_prefix and delete_all_resources', async () => {
    const prefix = hashes[10]!.slice(0, 3)
    const byPrefix = await sdk.api.delete_resources_by_prefix(prefix, { type: 'gravatar' })
    expect(Object.keys(byPrefix.deleted).every((id) => id.startsWith(prefix))).toBe(true)
    expect(Object.keys(byPrefix.deleted).length).toBeGreaterThan(0)
    const all = await sdk.api.delete_all_resources({ type: 'facebook' })
    expect(Object.keys(all.deleted).sort()).toEqual(['7001', '7002', '7003'])
    expect((await sdk.api.resources({ type: 'facebook' })).resources).toEqual([])
    // Restricted pictures come back through a signed request after deletion.
    expect((await headshot.get(headshot.sign('/image/facebook/7001.jpg'))).status).toBe(200)
  })
})
