/**
 * Where the absolute URLs of API answers point: HEADSHOT_PUBLIC_URL when it is set (the request's
 * Host is then ignored entirely); otherwise the Host only when it is a plain host[:port], so a
 * forged Host cannot put paths, quotes or junk into `url` / `secure_url`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { connect } from 'node:net'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { reflectableHost } from '../../src/api/url-base.ts'
import { signApiParams } from '../../src/url/api-signature.ts'
import { startHeadshot, TEST_SECRET, type Headshot } from '../support/headshot.ts'

const AUTH = `Basic ${btoa(`123456:${TEST_SECRET}`)}`
const HOSTILE = ['evil.example/../x', 'a"b', `${'x'.repeat(300)}.example`, 'evil.example:99999', '<b>x</b>', 'u@evil']

let gravatar: FakeGravatar
let hash: string

beforeAll(() => {
  gravatar = startFakeGravatar()
  hash = gravatar.addEmail('public-url@example.com').md5
})
afterAll(() => gravatar.stop())

/** The one stored picture's `secure_url` and `url`, as the Admin API lists it, for a request with this Host. */
async function listed(headshot: Headshot, host: string | undefined): Promise<{ url: string; secure_url: string }> {
  const headers: Record<string, string> = { authorization: AUTH }
  if (host !== undefined) headers.host = host
  const response = await headshot.get('/v1_1/local/resources/image/gravatar', { headers })
  expect(response.status).toBe(200)
  const { resources } = (await response.json()) as { resources: Array<{ url: string; secure_url: string }> }
  return resources[0]!
}

/** explicit with an eager transformation, signed as the SDK signs it. */
async function explicitEager(headshot: Headshot, host: string) {
  const params = {
    public_id: hash,
    type: 'gravatar',
    eager: 'c_fill,h_20,w_20',
    timestamp: String(Math.floor(Date.now() / 1000)),
  }
  const body = new URLSearchParams({ ...params, api_key: '123456', signature: signApiParams(params, TEST_SECRET) })
  const response = await headshot.app.handle(
    new Request('http://localhost/v1_1/local/image/explicit', {
      method: 'POST',
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', host },
    }),
  )
  expect(response.status).toBe(200)
  return (await response.json()) as { secure_url: string; eager: Array<{ url: string; secure_url: string }> }
}

describe('which Host may be written into a URL', () => {
  test('plain names, addresses and ports', () => {
    for (const host of [
      'localhost',
      'localhost:8080',
      'img.example.com',
      '127.0.0.1:49152',
      '[::1]:8080',
      'my_app:3000',
    ])
      expect(reflectableHost(host)).toBe(host)
  })

  test('nothing with a path, quotes, markup, credentials, spaces, a bad port, or too long', () => {
    for (const host of [
      ...HOSTILE,
      null,
      '',
      'a b',
      'x.example\r\nSet-Cookie: a=b',
      'x.example:',
      '-x.example',
      '[::1',
    ])
      expect(reflectableHost(host)).toBeUndefined()
  })
})

describe('without HEADSHOT_PUBLIC_URL', () => {
  let headshot: Headshot
  beforeAll(async () => {
    headshot = await startHeadshot(gravatar.env)
    expect((await headshot.get(`/image/gravatar/${hash}.jpg`)).status).toBe(200)
  })
  afterAll(() => headshot.close())

  test('a plain Host is used, as the SDKs expect', async () => {
    const { url, secure_url } = await listed(headshot, 'img.example.com:8443')
    expect(secure_url).toMatch(
      new RegExp(`^https://img\\.example\\.com:8443/local/image/gravatar/v\\d+/${hash}\\.jpg$`),
    )
    expect(url).toBe(secure_url.replace('https:', 'http:'))
  })

  test.each(HOSTILE)('a hostile Host (%s) is not reflected: localhost instead', async (host) => {
    const { url, secure_url } = await listed(headshot, host)
    expect(secure_url).toMatch(new RegExp(`^https://localhost/local/image/gravatar/v\\d+/${hash}\\.jpg$`))
    expect(url).toMatch(/^http:\/\/localhost\/local\//)
  })

  test('nor in eager URLs', async () => {
    const answer = await explicitEager(headshot, 'a"b')
    expect(answer.secure_url.startsWith('https://localhost/local/image/gravatar/')).toBe(true)
    expect(answer.eager[0]!.secure_url.startsWith('https://localhost/local/image/gravatar/c_fill,h_20,w_20/')).toBe(
      true,
    )
  })

  test('over a real socket, a Host no client library would send is answered without it', async () => {
    headshot.app.app.listen({ port: 0, hostname: '127.0.0.1' })
    const port = headshot.app.app.server!.port!
    try {
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () =>
          socket.write(
            'GET /v1_1/local/resources/image/gravatar HTTP/1.1\r\n' +
              `Host: evil.example/../x\r\nAuthorization: ${AUTH}\r\nConnection: close\r\n\r\n`,
          ),
        )
        let data = ''
        socket.on('data', (chunk) => (data += chunk))
        socket.on('close', () => resolve(data))
        socket.on('error', reject)
      })
      expect(raw).toStartWith('HTTP/1.1 200')
      expect(raw).toContain('"secure_url":"https://localhost/local/image/gravatar/')
      expect(raw).not.toContain('evil.example')
    } finally {
      await headshot.app.app.stop()
    }
  })
})

describe('with HEADSHOT_PUBLIC_URL', () => {
  let headshot: Headshot
  beforeAll(async () => {
    headshot = await startHeadshot({ ...gravatar.env, HEADSHOT_PUBLIC_URL: 'https://img.example.com/avatars/' })
    expect((await headshot.get(`/image/gravatar/${hash}.jpg`)).status).toBe(200)
  })
  afterAll(() => headshot.close())

  test('every URL is on the public origin, below its path, whatever the Host says', async () => {
    for (const host of [undefined, 'other.example', 'img.example.com:8443', ...HOSTILE]) {
      const { url, secure_url } = await listed(headshot, host)
      expect(secure_url).toMatch(
        new RegExp(`^https://img\\.example\\.com/avatars/local/image/gravatar/v\\d+/${hash}\\.jpg$`),
      )
      expect(url).toBe(secure_url.replace('https:', 'http:'))
    }
    const answer = await explicitEager(headshot, 'other.example')
    expect(answer.secure_url.startsWith('https://img.example.com/avatars/local/image/gravatar/')).toBe(true)
    expect(answer.eager[0]!.secure_url).toMatch(
      new RegExp(`^https://img\\.example\\.com/avatars/local/image/gravatar/c_fill,h_20,w_20/v\\d+/${hash}\\.jpg$`),
    )
  })
})
