/**
 * Delivery, end to end, for the git forges: GitHub by login, GitLab by username and by email,
 * against their fake upstreams.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startFakeGitHub, type FakeGitHub } from '../../plugins/github/fake.ts'
import { startFakeGitLab, type FakeGitLab } from '../../plugins/gitlab/fake.ts'
import { hasColourOf } from '../support/fakes/images.ts'
import { probeImage, startHeadshot, type Headshot } from '../support/headshot.ts'

let github: FakeGitHub
let gitlab: FakeGitLab
let headshot: Headshot

beforeAll(async () => {
  github = startFakeGitHub()
  gitlab = startFakeGitLab()
  github.addUser('Octocat', { seed: 'octocat', format: 'png' })
  github.addUser('throttled')
  gitlab.addUser('Jane.Doe', { email: 'jane@example.com', picture: { seed: 'jane', side: 400, format: 'jpg' } })
  gitlab.addUser('plain', { picture: 'none' })
  headshot = await startHeadshot({ ...github.tokenEnv, ...gitlab.env })
})

afterAll(async () => {
  await headshot.close()
  github.stop()
  gitlab.stop()
})

async function picture(path: string): Promise<{ status: number; bytes: Uint8Array; format?: string; side?: number[] }> {
  const response = await headshot.get(path)
  const bytes = new Uint8Array(await response.arrayBuffer())
  const probe = probeImage(bytes)
  return probe.ok
    ? { status: response.status, bytes, format: probe.value.format, side: [probe.value.width, probe.value.height] }
    : { status: response.status, bytes }
}

describe('github', () => {
  test('c_fill,w_40,h_40 of a login (any case) is a 40×40 picture of that user, unsigned', async () => {
    const result = await picture('/image/github/c_fill,w_40,h_40/OctoCat.jpg')
    expect([result.status, result.format, result.side]).toEqual([200, 'jpg', [40, 40]])
    expect(await hasColourOf(result.bytes, 'octocat')).toBe(true)
    expect(github.requests.last('user')!.path).toBe('/users/octocat')
  })

  test('an unknown login is 404 Resource not found', async () => {
    const response = await headshot.get('/image/github/c_fill,w_40,h_40/nobody.jpg')
    expect(response.status).toBe(404)
    expect(response.headers.get('x-cld-error')).toBe('Resource not found - nobody')
  })

  test('an invalid login is refused before any API call', async () => {
    const before = github.requests.count('user')
    expect((await headshot.get('/image/github/bad--login.jpg')).status).toBe(400)
    expect(github.requests.count('user')).toBe(before)
  })

  test('an exhausted quota is 503 with Retry-After', async () => {
    github.modes.remaining = 0
    try {
      const response = await headshot.get('/image/github/w_40/throttled.jpg')
      expect(response.status).toBe(503)
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0)
    } finally {
      github.modes.remaining = undefined
    }
  })
})

describe('gitlab', () => {
  test('c_fill,w_40,h_40 of a username with a dot is a 40×40 picture of that user', async () => {
    const result = await picture('/image/gitlab/c_fill,w_40,h_40/jane.doe.jpg')
    expect([result.status, result.format, result.side]).toEqual([200, 'jpg', [40, 40]])
    expect(await hasColourOf(result.bytes, 'jane')).toBe(true)
  })

  test('the same person by email, percent-encoded or with @ (any case)', async () => {
    const result = await picture('/image/gitlab/c_fill,w_40,h_40/jane%40example.com.png')
    expect([result.status, result.format, result.side]).toEqual([200, 'png', [40, 40]])
    expect(await hasColourOf(result.bytes, 'jane')).toBe(true)
    expect(gitlab.requests.last('avatar_api')!.query.get('email')).toBe('jane@example.com')
    const withAt = await picture('/image/gitlab/c_fill,w_40,h_40/Jane@Example.com.png')
    expect([withAt.status, withAt.side]).toEqual([200, [40, 40]])
  })

  test('an unknown username is 404 Resource not found; so is a user with no picture', async () => {
    const missing = await headshot.get('/image/gitlab/c_fill,w_40,h_40/nobody.jpg')
    expect(missing.status).toBe(404)
    expect(missing.headers.get('x-cld-error')).toBe('Resource not found - nobody')
    const plain = await headshot.get('/image/gitlab/c_fill,w_40,h_40/plain.jpg')
    expect(plain.status).toBe(404)
    expect(plain.headers.get('x-cld-error')).toBe('Resource not found - plain')
  })
})
