/**
 * Facebook profile pictures by numeric (app-scoped, page-scoped or global) user id, through the
 * Graph API picture edge: `/image/facebook/…/65646572251.jpg`. Meta's error codes and the
 * silhouette signal are handled as described below; plugins/facebook/fake.ts reproduces the API.
 */
import { Type } from '@sinclair/typebox'
import { definePlugin, err, ok, UpstreamError, type Resolution } from '../../src/plugin-host/types.ts'
import {
  apiRequest,
  hmacHex,
  isRecord,
  jsonBody,
  retryAfterToEpochMs,
  type HttpResponse,
} from '../../src/plugin-host/upstream.ts'

const NETWORK = 'Facebook'
const USER_ID = /^[0-9]{1,25}$/
// Graph answers with the closest size it has; ask for a large square and take what comes.
const REQUESTED_SIDE = 2048

// Graph signals errors by `error.code`, and its HTTP statuses are inconsistent (400/403/429 for
// the same throttle), so classification never looks at the status first.
// https://developers.facebook.com/docs/graph-api/guides/error-handling
const AUTH_CODES = new Set([10, 102, 104, 190]) // + 200–299 (permissions); 104 = "An access token is required"
const RATE_LIMIT_CODES = new Set([4, 17, 32, 341, 368, 613]) // + 80000–80014 (business use case limits)
const NOT_FOUND_CODE = 100
const NOT_FOUND_SUBCODE = 33

function classifyGraphError(error: Record<string, unknown>, response: HttpResponse, nowMs: number): Resolution {
  const code = typeof error.code === 'number' ? error.code : undefined
  const subcode = typeof error.error_subcode === 'number' ? error.error_subcode : undefined
  const message = typeof error.message === 'string' ? error.message : 'unknown error'
  const detail = `${NETWORK}: ${message} (code ${code ?? '?'}${subcode === undefined ? '' : `/${subcode}`})`

  if (code === NOT_FOUND_CODE) {
    // "Object with ID … does not exist" (subcode 33). The appsecret_proof refusals share code 100
    // but are our configuration's fault: caching them as "not found" would hide every user.
    if (subcode !== NOT_FOUND_SUBCODE && /appsecret_proof/i.test(message)) throw new UpstreamError('auth', detail)
    return { kind: 'not_found' }
  }
  if (code !== undefined && (AUTH_CODES.has(code) || (code >= 200 && code <= 299))) {
    throw new UpstreamError('auth', detail)
  }
  if (code !== undefined && (RATE_LIMIT_CODES.has(code) || (code >= 80000 && code <= 80014))) {
    throw new UpstreamError('rate_limited', detail, retryAfterToEpochMs(response.headers.get('retry-after'), nowMs))
  }
  throw new UpstreamError('unavailable', detail)
}

export default definePlugin({
  type: 'facebook',
  settings: Type.Object({
    graphUrl: Type.String({ default: 'https://graph.facebook.com', env: 'HEADSHOT_FACEBOOK_GRAPH_URL', baseUrl: true }),
    graphVersion: Type.String({
      default: 'v25.0',
      env: 'HEADSHOT_FACEBOOK_GRAPH_VERSION',
      pattern: '^v[0-9]+\\.[0-9]+$',
    }),
    appId: Type.Optional(Type.String({ env: 'HEADSHOT_FACEBOOK_APP_ID' })),
    appSecret: Type.Optional(Type.String({ env: 'HEADSHOT_FACEBOOK_APP_SECRET' })),
  }),
  // Picture URLs point at the lookaside platform or the fbcdn CDN.
  hosts: ['*.fbcdn.net', 'platform-lookaside.fbsbx.com', '*.fbsbx.com'],
  // Graph calls spend the app's rate limit: only signed URLs may cause them by default.
  restrictedByDefault: true,
  id: { syntax: 'the numeric, app-scoped Facebook user id', example: '65646572251' },

  parseId: (raw) => (USER_ID.test(raw) ? ok(raw) : err('expected a numeric Facebook user id')),

  async resolve(id, { settings, http, now }) {
    const { graphUrl, graphVersion, appId, appSecret } = settings
    // Tokenless calls get errors (inactive apps) or a fake silhouette (apps in development mode);
    // storing that silhouette as "no picture" would be wrong, so never call without a token.
    if (!appId || !appSecret) {
      throw new UpstreamError(
        'auth',
        `${NETWORK}: HEADSHOT_FACEBOOK_APP_ID and HEADSHOT_FACEBOOK_APP_SECRET must both be set`,
      )
    }
    const accessToken = `${appId}|${appSecret}`
    const query = new URLSearchParams({
      redirect: 'false',
      width: String(REQUESTED_SIDE),
      height: String(REQUESTED_SIDE),
      access_token: accessToken,
      // Required when the app enables "Require App Secret"; harmless otherwise.
      appsecret_proof: hmacHex('sha256', appSecret, accessToken),
    })
    const url = `${graphUrl}/${graphVersion}/${encodeURIComponent(id)}/picture?${query}`

    const response = await apiRequest(http, NETWORK, url, { followRedirects: false })

    const body = jsonBody(response)
    if (isRecord(body) && isRecord(body.error)) return classifyGraphError(body.error, response, now())
    if (response.status !== 200 || !isRecord(body) || !isRecord(body.data)) {
      throw new UpstreamError('unavailable', `${NETWORK}: unexpected HTTP ${response.status} response`)
    }
    if (body.data.is_silhouette === true) return { kind: 'none' }
    if (typeof body.data.url !== 'string') throw new UpstreamError('unavailable', `${NETWORK}: picture without url`)
    // No changeKey: the URL carries an expiry (`ext=`) and a signature, so it changes on every
    // call even when the picture does not; the stored bytes' hash decides instead.
    return { kind: 'image', url: body.data.url }
  },
})
