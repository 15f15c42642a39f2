/**
 * The console's HTTP surface, all under /console: the page and its files, sign-in and sign-out,
 * and the session-protected JSON API. Every response carries the console's security headers and
 * is gzipped when it is text and the browser accepts it.
 *
 * Access rules: reading needs a live session cookie; an action (POST/DELETE) additionally needs a
 * same-origin request and the session's CSRF token in `X-CSRF-Token`.
 */
import { Elysia } from 'elysia'
import { createApi, errorResponse, jsonError } from './api.ts'
import { ASSETS, renderPage, type Asset, type View } from './assets.ts'
import { compressed } from './compress.ts'
import { SessionStore, type Session } from './session.ts'
import {
  CSRF_HEADER,
  SESSION_COOKIE,
  cameOverHttps,
  crossSiteReason,
  expiredSessionCookie,
  readCookie,
  sameSecret,
  securityHeaders,
  sessionCookie,
} from './security.ts'
import { SignInThrottle } from './throttle.ts'
import type { ManageService } from '../manage/types.ts'

export interface ConsoleDeps {
  manage: ManageService
  apiKey: string
  apiSecret: string
  cloudName: string
  /** A summary of the background refresh sweeper, shown as a status line when given. */
  sweeperStatus?: () => unknown
  now?: () => number
  /** Session lifetime without use (default 12 h). */
  sessionIdleMs?: number
  /** Sign-in attempts allowed per client address per minute (default 10). */
  signInAttemptsPerMinute?: number
  /** Where unexpected failures (500s) are reported, with their stack (default: stderr). */
  log?: (message: string) => void
}

/** A sign-in form is two short fields; anything bigger is not one. */
const MAX_SIGN_IN_BYTES = 8 * 1024

const WRONG_CREDENTIALS = 'Wrong API key or secret.'

type Handler = (request: Request, session: Session) => Response | Promise<Response>

function withHeaders(response: Response): Response {
  for (const [name, value] of Object.entries(securityHeaders())) response.headers.set(name, value)
  return response
}

function page(view: View, status = 200, message = '', headers: Record<string, string> = {}): Response {
  return new Response(renderPage(view, message), {
    status,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', ...headers },
  })
}

async function readSignInForm(request: Request): Promise<{ key: string; secret: string } | undefined> {
  const declared = Number(request.headers.get('content-length') ?? '0')
  if (declared > MAX_SIGN_IN_BYTES) return undefined
  const text = await request.text()
  if (text.length > MAX_SIGN_IN_BYTES) return undefined
  const form = new URLSearchParams(text)
  return { key: form.get('api_key') ?? '', secret: form.get('api_secret') ?? '' }
}

/** The 403 for an action that is cross-site or lacks the session's CSRF token; undefined when it may proceed. */
function actionRefusal(request: Request, session: Session): Response | undefined {
  const crossSite = crossSiteReason(request)
  if (crossSite) return jsonError(403, crossSite)
  if (!SessionStore.csrfMatches(session, request.headers.get(CSRF_HEADER))) return jsonError(403, 'Invalid CSRF token')
  return undefined
}

export function createConsoleRoutes(deps: ConsoleDeps) {
  const now = deps.now ?? Date.now
  const sessions = new SessionStore({ now, idleMs: deps.sessionIdleMs })
  const throttle = new SignInThrottle({ now, limit: deps.signInAttemptsPerMinute })
  const api = createApi(deps)

  const sessionOf = (request: Request) => sessions.touch(readCookie(request, SESSION_COOKIE))

  /** Reading: a live session. */
  const reading = (handler: Handler) => async (request: Request) => {
    const session = sessionOf(request)
    if (!session) return jsonError(401, 'Sign in first')
    try {
      return await handler(request, session)
    } catch (error) {
      return errorResponse(error, deps.log)
    }
  }

  /** Acting: a live session, a same-origin request, and the session's CSRF token. */
  const acting = (handler: Handler) =>
    reading((request, session) => actionRefusal(request, session) ?? handler(request, session))

  async function signIn(request: Request, client: string): Promise<Response> {
    if (crossSiteReason(request)) return page('sign-in', 403, 'Sign-in refused: the form was not sent from this site.')
    const decision = throttle.attempt(client)
    if (!decision.allowed) {
      const wait = decision.retryAfterSeconds
      return page('sign-in', 429, `Too many sign-in attempts. Try again in ${wait} s.`, { 'Retry-After': String(wait) })
    }
    const form = await readSignInForm(request)
    // Both comparisons always run, so the time does not tell which of the two was wrong.
    const keyMatches = sameSecret(form?.key ?? '', deps.apiKey)
    const secretMatches = sameSecret(form?.secret ?? '', deps.apiSecret)
    if (!form || !keyMatches || !secretMatches) return page('sign-in', 401, WRONG_CREDENTIALS)
    const { id } = sessions.create()
    return new Response(null, {
      status: 303,
      headers: {
        Location: '/console',
        'Set-Cookie': sessionCookie(id, cameOverHttps(request)),
        'Cache-Control': 'no-store',
      },
    })
  }

  function signOut(request: Request): Response {
    const id = readCookie(request, SESSION_COOKIE)
    const session = sessions.touch(id)
    if (session) {
      const refusal = actionRefusal(request, session)
      if (refusal) return refusal
      sessions.destroy(id)
    }
    return new Response(null, {
      status: 204,
      headers: { 'Set-Cookie': expiredSessionCookie(cameOverHttps(request)), 'Cache-Control': 'no-store' },
    })
  }

  const url = (request: Request) => new URL(request.url)
  const session = reading((_, live) => api.session(live.csrfToken))
  const status = reading(() => api.status())
  const counts = reading(() => api.counts())
  const list = reading((request) => api.list(url(request)))
  const details = reading((request) => api.details(url(request)))
  const deliveryUrl = reading((request) => api.deliveryUrl(url(request)))
  const refresh = acting((request) => api.refresh(url(request)))
  const invalidate = acting((request) => api.invalidate(url(request)))
  const remove = acting((request) => api.remove(url(request)))

  let routes = new Elysia()
    .get(
      '/console',
      respond((request) => page(sessionOf(request) ? 'library' : 'sign-in')),
    )
    // The TCP peer, not a forwarded-for header, is the throttle's client: see throttle.ts.
    .post(
      '/console/sign-in',
      respond((request, peer) => signIn(request, peer ?? 'unknown')),
    )
    .post('/console/sign-out', respond(signOut))
    .get('/console/api/session', respond(session))
    .get('/console/api/status', respond(status))
    .get('/console/api/counts', respond(counts))
    .get('/console/api/pictures', respond(list))
    .get('/console/api/picture', respond(details))
    .get('/console/api/url', respond(deliveryUrl))
    .post('/console/api/picture/refresh', respond(refresh))
    .post('/console/api/picture/invalidate', respond(invalidate))
    .delete('/console/api/picture', respond(remove))
  for (const asset of ASSETS)
    routes = routes.get(
      asset.path,
      respond((request) => serveAsset(asset, request)),
    )

  // Anything else under /console is ours to refuse, never a delivery URL for the app's catch-all
  // route. One route per method: Elysia prefers the app's `get('/*')` over an `all('/console/*')`.
  const notFound = respond(() => jsonError(404, 'Not found'))
  return routes.get('/console/*', notFound).post('/console/*', notFound).delete('/console/*', notFound)
}

type Context = { request: Request; server: { requestIP(request: Request): { address: string } | null } | null }

/** Every console response: the security headers, then gzip when the browser accepts it. */
function respond(handler: (request: Request, peer: string | undefined) => Response | Promise<Response>) {
  return async ({ request, server }: Context) => {
    const response = await handler(request, server?.requestIP(request)?.address)
    return compressed(request, withHeaders(response))
  }
}

function serveAsset(asset: Asset, request: Request): Response {
  const headers = {
    'Content-Type': asset.contentType,
    // The name carries the content hash: a changed file gets a new name.
    'Cache-Control': 'public, max-age=31536000, immutable',
    ETag: asset.etag,
  }
  if (request.headers.get('if-none-match') === asset.etag) return new Response(null, { status: 304, headers })
  return new Response(asset.body, { headers })
}
