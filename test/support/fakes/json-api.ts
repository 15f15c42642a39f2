/**
 * The JSON API the starter plugin of `headshot plugin init` talks to (src/plugin-host/authoring.ts):
 * `GET /users/<name>` → `{ "picture": { "url": … } }`, `{ "picture": null }`, 404 or 429; the picture
 * itself is served from the same origin.
 */
import { CONTENT_TYPES, makePicture } from './images.ts'
import { type FakeServer, serveFake } from './server.ts'

export interface FakeJsonApi extends FakeServer {
  /** A user with a `side`×`side` JPEG of `seed`, or none (`null`: the account has no picture). */
  addUser(name: string, picture: { seed: string; side: number } | null): void
  /** Answer 429 + Retry-After to every API call while true. */
  throttled: boolean
}

export function startFakeJsonApi(): FakeJsonApi {
  const users = new Map<string, { seed: string; side: number } | null>()
  const fake: FakeJsonApi = Object.assign(
    serveFake(async (_request, url) => {
      const user = /^\/users\/([^/]+)$/.exec(url.pathname)
      if (user) {
        if (fake.throttled) {
          return {
            route: 'user',
            response: new Response('slow down', { status: 429, headers: { 'Retry-After': '30' } }),
          }
        }
        const name = decodeURIComponent(user[1]!)
        if (!users.has(name))
          return { route: 'user', response: Response.json({ error: 'no such user' }, { status: 404 }) }
        const picture = users.get(name)
        const body = { name, picture: picture ? { url: `${fake.url}/pictures/${encodeURIComponent(name)}.jpg` } : null }
        return { route: 'user', response: Response.json(body) }
      }
      const picture = /^\/pictures\/([^/]+)\.jpg$/.exec(url.pathname)
      const entry = picture ? users.get(decodeURIComponent(picture[1]!)) : undefined
      if (!entry) return { route: 'picture', response: new Response('not found', { status: 404 }) }
      const bytes = await makePicture(entry.seed, entry.side, entry.side, 'jpg')
      return { route: 'picture', response: new Response(bytes, { headers: { 'Content-Type': CONTENT_TYPES.jpg } }) }
    }),
    {
      throttled: false,
      addUser(name: string, picture: { seed: string; side: number } | null) {
        users.set(name, picture)
      },
    },
  )
  return fake
}
