/**
 * One access log line per request, a request id on every answer, error lines that say what went
 * wrong (with a stack for 500s), and no credential in any line, whatever the request or the
 * upstream said.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Type } from '@sinclair/typebox'
import { connect } from 'node:net'
import { builtinPlugins } from '../../plugins/index.ts'
import { startFakeFacebook, type FakeFacebook } from '../../plugins/facebook/fake.ts'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { startFakeX, type FakeX } from '../../plugins/twitter/fake.ts'
import { definePlugin, ok } from '../../src/plugin-host/types.ts'
import { signApiParams } from '../../src/url/api-signature.ts'
import { startHeadshot, TEST_SECRET, type Headshot } from '../support/headshot.ts'

const BOOM_TOKEN = 'boom-token-0123456789'

/** A plugin with a bug: its error message carries its own credential, in a URL and bare. */
const boom = definePlugin({
  type: 'boom',
  settings: Type.Object({
    url: Type.String({ default: 'http://127.0.0.1:9', env: 'HEADSHOT_BOOM_URL', baseUrl: true }),
    token: Type.String({ default: BOOM_TOKEN, env: 'HEADSHOT_BOOM_TOKEN' }),
  }),
  hosts: [],
  id: { syntax: 'anything', example: 'x' },
  parseId: (raw) => ok(raw),
  async resolve(id, { settings }) {
    throw new TypeError(
      `cannot read ${settings.url}/users/${id}?token=${settings.token}: "${settings.token}" is revoked`,
    )
  },
})

let headshot: Headshot
let gravatar: FakeGravatar
let facebook: FakeFacebook
let x: FakeX
let hash: string

beforeAll(async () => {
  gravatar = startFakeGravatar()
  facebook = startFakeFacebook()
  x = startFakeX()
  hash = gravatar.addEmail('someone@example.com').md5
  facebook.addUser('4', { seed: 'zuck', side: 200 })
  headshot = await startHeadshot(
    {
      ...gravatar.env,
      ...facebook.env,
      ...x.bearerEnv,
      HEADSHOT_RESTRICTED_TYPES: 'none',
      HEADSHOT_LOG_LEVEL: 'debug',
    },
    { plugins: [...builtinPlugins, boom] },
  )
})

afterAll(async () => {
  await headshot.close()
  gravatar.stop()
  facebook.stop()
  x.stop()
})

const requestLines = () => headshot.logs.filter((line) => line.msg === 'request')
const linesOf = (id: string) => headshot.logs.filter((line) => line.requestId === id)
const accessLineOf = (response: Response) => {
  const id = response.headers.get('x-request-id')!
  const lines = linesOf(id).filter((line) => line.msg === 'request')
  expect(lines).toHaveLength(1)
  return lines[0]!
}

describe('the access line', () => {
  test('one per request, with what an operator needs: method, path, status, duration, bytes, cache result', async () => {
    const path = `/image/gravatar/c_scale,w_40/${hash}.jpg`
    const before = requestLines().length
    const first = await headshot.get(path)
    const bytes = (await first.arrayBuffer()).byteLength
    const again = await headshot.get(path)
    // Asked for a third time, the URL is answered from the hot cache (kept once asked for again).
    const hot = await headshot.get(path)
    expect(requestLines().length).toBe(before + 3)

    const line = accessLineOf(first)
    expect(line).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      level: 'info',
      msg: 'request',
      requestId: first.headers.get('x-request-id'),
      method: 'GET',
      path,
      status: 200,
      durationMs: expect.any(Number),
      bytes,
      cache: 'miss',
    })
    expect(line.durationMs as number).toBeGreaterThan(0)
    expect(accessLineOf(again)).toMatchObject({ status: 200, cache: 'stored', bytes })
    expect(accessLineOf(hot)).toMatchObject({ status: 200, cache: 'hot', bytes })
  })

  test('the query string is never logged (API calls may carry api_key and signature there)', async () => {
    const response = await headshot.get('/v1_1/local/resources/image?api_key=123456&signature=abcdef0123&timestamp=1')
    expect(accessLineOf(response)).toMatchObject({ path: '/v1_1/local/resources/image', status: 401 })
  })

  test('bytes of answers without a declared length (JSON, text) are counted too; HEAD and 304 send none', async () => {
    const json = await headshot.get('/healthz')
    expect(accessLineOf(json)).toMatchObject({ level: 'debug', bytes: (await json.text()).length })
    const image = await headshot.get(`/image/gravatar/${hash}.jpg`)
    const etag = image.headers.get('etag')!
    await headshot.get(`/image/gravatar/${hash}.jpg`) // asked for again: kept hot
    const notModified = await headshot.get(`/image/gravatar/${hash}.jpg`, { headers: { 'if-none-match': etag } })
    expect(notModified.status).toBe(304)
    expect(accessLineOf(notModified)).toMatchObject({ bytes: 0, cache: 'hot' })
    expect(accessLineOf(await headshot.head(`/image/gravatar/${hash}.jpg`))).toMatchObject({ bytes: 0 })
  })

  test("the client's address when the request came over a socket", async () => {
    const base = headshot.listen()
    const response = await fetch(`${base}/image/gravatar/${hash}.jpg`)
    await response.arrayBuffer()
    expect(accessLineOf(response).ip).toBe('127.0.0.1')
  })

  test('probes and scrapes are debug lines: at info they do not drown the requests', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      expect(accessLineOf(await headshot.get(path)).level).toBe('debug')
    }
    expect(accessLineOf(await headshot.get('/openapi.json')).level).toBe('info')
  })
})

describe('request ids', () => {
  const sent = (id: string) => ({ headers: { 'x-request-id': id } })

  test('a sane X-Request-Id is kept, echoed, and on every line of the request', async () => {
    for (const id of ['abc-123', '0f8fad5b-d9cb-469f-a165-70867728950e', 'Root=1-5759e988-bd862e3fe1be46a994272793']) {
      const response = await headshot.get(`/image/gravatar/c_scale,w_41/${hash}.jpg`, sent(id))
      expect(response.headers.get('x-request-id')).toBe(id)
      expect(accessLineOf(response).requestId).toBe(id)
    }
  })

  test('without one, a new UUID per request', async () => {
    const a = await headshot.get('/healthz')
    const b = await headshot.get('/healthz')
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
    expect(a.headers.get('x-request-id')).toMatch(uuid)
    expect(b.headers.get('x-request-id')).toMatch(uuid)
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'))
  })

  test('echoed on every kind of answer: delivery, delivery error, API, API error, console, landing page', async () => {
    const auth = { authorization: `Basic ${btoa(`123456:${TEST_SECRET}`)}` }
    const answers = await Promise.all([
      headshot.get(`/image/gravatar/${hash}.jpg`, sent('r-delivery')),
      headshot.get('/image/gravatar/c_nonsense/x.jpg', sent('r-delivery-error')),
      headshot.get('/v1_1/local/resources/image', { headers: { ...auth, 'x-request-id': 'r-api' } }),
      headshot.get('/v1_1/local/resources/image', sent('r-api-error')),
      headshot.get('/v1_1/local/nowhere', sent('r-api-404')),
      headshot.get('/console', sent('r-console')),
      headshot.get('/console/api/session', sent('r-console-401')),
      headshot.get('/', sent('r-landing')),
    ])
    expect(answers.map((r) => [r.status, r.headers.get('x-request-id')])).toEqual([
      [200, 'r-delivery'],
      [400, 'r-delivery-error'],
      [200, 'r-api'],
      [401, 'r-api-error'],
      [404, 'r-api-404'],
      [200, 'r-console'],
      [401, 'r-console-401'],
      [200, 'r-landing'],
    ])
  })

  test('a hostile id (too long, odd characters) is replaced, never echoed nor logged', async () => {
    for (const hostile of ['x'.repeat(10_000), 'a b', 'a"b', '{"level":"error"}', 'é', 'a;b<script>']) {
      const response = await headshot.get('/healthz', sent(hostile))
      const id = response.headers.get('x-request-id')!
      expect(id).not.toBe(hostile)
      expect(id).toMatch(/^[0-9a-f-]{36}$/)
      expect(JSON.stringify(linesOf(id))).not.toContain(hostile)
    }
  })

  test('control characters and line breaks sent on the wire cannot forge a line or a header', async () => {
    const base = new URL(headshot.listen())
    const raw = async (value: string) => {
      const socket = connect(Number(base.port), base.hostname)
      const chunks: Buffer[] = []
      socket.on('data', (chunk: Buffer) => chunks.push(chunk))
      const closed = new Promise((resolve) => socket.on('close', resolve))
      socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Request-Id: ${value}\r\n\r\n`)
      await closed
      return Buffer.concat(chunks).toString('latin1')
    }
    for (const value of ['ab\x01cd', 'ab\x7fcd', 'ab\tcd', 'ab\rcd']) {
      const answer = await raw(value)
      const echoed = /\r\nx-request-id: ([^\r\n]*)\r\n/i.exec(answer)?.[1]
      // Refused by the HTTP parser (400), or answered with an id of our own.
      if (echoed !== undefined) expect(echoed).toMatch(/^[0-9a-f-]{36}$/)
      else expect(answer).toStartWith('HTTP/1.1 400')
    }
  })
})

describe('error lines', () => {
  test('a bug (500): an error line with the stack, the request id, and the client told nothing', async () => {
    const response = await headshot.get('/image/boom/someone.jpg', { headers: { 'x-request-id': 'r-boom' } })
    expect(response.status).toBe(500)
    expect(await response.text()).not.toContain('cannot read')
    const [error] = linesOf('r-boom').filter((line) => line.level === 'error')
    expect(error).toMatchObject({ requestId: 'r-boom', msg: expect.stringContaining('/image/boom/someone.jpg') })
    expect(error!.stack).toContain('TypeError')
    expect(error!.stack).toContain('access-log.test.ts')
    expect(accessLineOf(response)).toMatchObject({ status: 500, level: 'info' })
  })

  test("upstream trouble (502): a warning with the upstream's detail, without a stack", async () => {
    facebook.modes.failure = 'server_error'
    try {
      const response = await headshot.get('/image/facebook/4.jpg', { headers: { 'x-request-id': 'r-upstream' } })
      expect(response.status).toBe(502)
    } finally {
      facebook.modes.failure = undefined
    }
    const [warning] = linesOf('r-upstream').filter((line) => line.level === 'warn')
    expect(warning!.msg).toContain('/image/facebook/4.jpg')
    expect(warning!.stack).toBeUndefined()
  })
})

describe('no credential in any line', () => {
  test('API secret, signatures, upstream tokens and signed upstream URLs stay out of the log', async () => {
    // The Admin API with Basic credentials, the Upload API with a signed body, a console sign-in.
    const auth = { authorization: `Basic ${btoa(`123456:${TEST_SECRET}`)}` }
    await headshot.get('/v1_1/local/resources/image', { headers: auth })
    const params = { public_id: '4', type: 'facebook', timestamp: String(Math.floor(Date.now() / 1000)) }
    const signature = signApiParams(params, TEST_SECRET)
    const post = (path: string, init: RequestInit) =>
      headshot.app.handle(new Request(`http://localhost${path}`, { ...init, method: 'POST' }))
    const explicit = await post('/v1_1/local/image/explicit', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...params, api_key: '123456', signature }).toString(),
    })
    expect(explicit.status).toBe(200)
    const signIn = await post('/console/sign-in', {
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
      body: new URLSearchParams({ api_key: '123456', api_secret: TEST_SECRET }).toString(),
    })
    expect(signIn.status).toBe(303)
    // A bug whose message carries a plugin credential; an expired signed CDN URL (403 with its query).
    await headshot.get('/image/boom/again.jpg')
    facebook.addUser('5', { seed: 'expired', side: 100 })
    facebook.modes.urlLifetimeSeconds = -60
    try {
      expect((await headshot.get('/image/facebook/5.jpg')).status).toBe(502)
    } finally {
      facebook.modes.urlLifetimeSeconds = 4 * 24 * 3600
    }
    // X, called with its bearer token.
    x.addUser({ id: '77', username: 'someone', picture: { seed: 'x', ext: 'jpg', side: 48 } })
    await headshot.get('/image/twitter/77.jpg')

    const text = headshot.logs.map((line) => JSON.stringify(line)).join('\n')
    expect(text).toContain('"status":502') // the failures above were logged...
    expect(text).toContain('/profilepic/?<redacted>') // ...with the CDN URL, less its signed query
    for (const secret of [
      TEST_SECRET,
      signature,
      btoa(`123456:${TEST_SECRET}`),
      BOOM_TOKEN,
      facebook.appSecret,
      x.credentials.bearerToken,
      'asid=',
      'hash=',
    ]) {
      expect({ secret, found: text.includes(secret) }).toEqual({ secret, found: false })
    }
  })
})
