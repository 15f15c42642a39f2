/**
 * Limits that need no image are checked before the picture is looked up or fetched: a hostile
 * unsigned URL with a random Gravatar hash gets its 400 without an upstream call, and leaves no row.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { startHeadshot, type Headshot } from '../support/headshot.ts'

let gravatar: FakeGravatar
let headshot: Headshot
const randomHash = () => randomBytes(16).toString('hex')

beforeAll(async () => {
  gravatar = startFakeGravatar()
  headshot = await startHeadshot(gravatar.env)
})

afterAll(async () => {
  await headshot.close()
  gravatar.stop()
})

describe('limits that need no image are checked before the upstream is asked', () => {
  test.each([
    ['an output larger than any source can make', 'c_fill,h_5000,w_5000', 'Maximum image size exceeded: 5000x5000'],
    ['a width over the side limit', 'w_4097', 'Maximum image size exceeded: 4097x?'],
    ['a pad canvas over it, through dpr', 'c_pad,dpr_2.0,h_100,w_2100', 'Maximum image size exceeded: 4200x200'],
    ['a dpr over the cap', 'c_fill,dpr_8.0,h_40,w_40', 'Invalid dpr in transformation: 8'],
    ['an unknown named transformation', 't_nonesuch', 'Unknown transformation nonesuch'],
  ])('%s: 400, no upstream call, no row', async (_, transformation, message) => {
    const hash = randomHash()
    const calls = gravatar.requests.count()
    const response = await headshot.get(`/image/gravatar/${transformation}/${hash}.jpg`)
    expect(response.status).toBe(400)
    expect(response.headers.get('x-cld-error')).toBe(message)
    expect(gravatar.requests.count()).toBe(calls)
    expect(await headshot.app.manage.get('gravatar', hash)).toBeUndefined()
  })

  test('a size only some sources could not make still asks the upstream (the plan decides)', async () => {
    const hash = randomHash()
    const calls = gravatar.requests.count()
    // Nobody has this hash: Gravatar says so, and the answer is remembered.
    expect((await headshot.get(`/image/gravatar/c_limit,w_9000/${hash}.jpg`)).status).toBe(404)
    expect(gravatar.requests.count()).toBe(calls + 1)
    expect((await headshot.app.manage.get('gravatar', hash))?.status).toBe('none')
  })
})
