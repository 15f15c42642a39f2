/**
 * The surface around the API: cache tags on delivery, the OpenAPI document generated from the
 * route schemas, its reference page, and the landing page.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { startHeadshot, type Headshot } from '../support/headshot.ts'

let gravatar: FakeGravatar
let headshot: Headshot
let hash: string

beforeAll(async () => {
  gravatar = startFakeGravatar()
  hash = gravatar.addEmail('tagged@example.com').md5
  headshot = await startHeadshot({ ...gravatar.env, HEADSHOT_PURGE_URL: 'http://127.0.0.1:9/purge' })
})

afterAll(async () => {
  await headshot.close()
  gravatar.stop()
})

describe('delivery for CDNs', () => {
  test('every variant of a picture carries the same Cache-Tag and Surrogate-Key', async () => {
    for (const path of [
      `/image/gravatar/${hash}.jpg`,
      `/image/gravatar/c_fill,w_30,h_30/${hash}.png`,
      `/local/image/gravatar/w_20/${hash}`,
    ]) {
      const response = await headshot.get(path)
      expect(response.status).toBe(200)
      expect(response.headers.get('cache-tag')).toBe(`headshot:gravatar/${hash}`)
      expect(response.headers.get('surrogate-key')).toBe(`headshot:gravatar/${hash}`)
    }
  })

  test('with a purge hook, unversioned URLs may stay at the CDN for 30 days but in browsers only for the refresh TTL', async () => {
    const response = await headshot.get(`/image/gravatar/${hash}.jpg`)
    expect(response.headers.get('cache-control')).toBe('public, max-age=604800, s-maxage=2592000')
  })
})

describe('OpenAPI', () => {
  test('documents every API route with the schemas that validate it', async () => {
    const response = await headshot.get('/openapi.json')
    expect(response.status).toBe(200)
    const doc = (await response.json()) as { openapi: string; paths: Record<string, Record<string, any>> }
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/v1_1/{cloud}/image/explicit',
      '/v1_1/{cloud}/resources/image',
      '/v1_1/{cloud}/resources/image/{type}',
      '/v1_1/{cloud}/resources/image/{type}/{public_id}',
    ])
    expect(Object.keys(doc.paths['/v1_1/{cloud}/resources/image/{type}']!).sort()).toEqual(['delete', 'get'])
    const list = doc.paths['/v1_1/{cloud}/resources/image/{type}']!.get
    const maxResults = list.parameters.find((p: { name: string }) => p.name === 'max_results')
    expect(maxResults.schema).toMatchObject({ type: 'number', minimum: 1, maximum: 500 })
    const explicit = doc.paths['/v1_1/{cloud}/image/explicit']!.post
    expect(Object.keys(explicit.requestBody.content)).toContain('multipart/form-data')
    expect(explicit.requestBody.content['application/json'].schema.required).toEqual([
      'public_id',
      'timestamp',
      'api_key',
      'signature',
    ])
    expect(Object.keys(explicit.responses)).toEqual(['200', '400', '401', '404', '429'])
  })

  test('a reference page renders the same document, with no external assets', async () => {
    const response = await headshot.get('/openapi')
    expect(response.headers.get('content-type')).toContain('text/html')
    const html = await response.text()
    expect(html).toContain('/v1_1/{cloud}/image/explicit')
    expect(html).toContain('max_results')
    expect(html).not.toMatch(/<script|https?:\/\/(?!127)/)
  })

  test('requests that break the schema get a 400 in the Cloudinary error shape', async () => {
    const auth = { Authorization: `Basic ${Buffer.from(`123456:${headshot.config.apiSecret}`).toString('base64')}` }
    const response = await headshot.get('/v1_1/local/resources/image/gravatar?max_results=0', { headers: auth })
    expect(response.status).toBe(400)
    const body = (await response.json()) as { error: { message: string } }
    expect(body.error.message).toMatch(/^Invalid value for max_results/)
    const unknown = await headshot.get('/v1_1/local/no/such/route')
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toEqual({ error: { message: 'Not found' } })
  })
})

describe('landing', () => {
  test('a small page linking the console, the docs and health', async () => {
    const html = await (await headshot.get('/')).text()
    for (const href of ['/console', '/openapi.json', '/openapi', '/healthz']) expect(html).toContain(`href="${href}"`)
    expect(html).not.toContain(headshot.config.apiSecret)
  })

  test('JSON for Accept: application/json', async () => {
    const response = await headshot.get('/', { headers: { Accept: 'application/json' } })
    const body = (await response.json()) as { name: string; version: string; delivery_types: string[] }
    expect(body.name).toBe('headshot')
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/)
    expect(body.delivery_types).toContain('gravatar')
  })
})
