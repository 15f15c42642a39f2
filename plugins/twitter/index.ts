/**
 * X (Twitter) profile pictures by numeric user id: `/image/twitter/…/2244994945.jpg`.
 * The API work is shared with twitter_name in plugins/twitter/x-api.ts.
 */
import { definePlugin, err, ok } from '../../src/plugin-host/types.ts'
import { resolveXUser, resolveXUsers, X_BATCH_MAX, X_USERS_BY_IDS, xImageHosts, xSettings } from './x-api.ts'

// X's own UserId schema (openapi.json): up to 19 digits, which also keeps ids within a signed 64-bit integer.
const USER_ID = /^[0-9]{1,19}$/

export default definePlugin({
  type: 'twitter',
  settings: xSettings,
  hosts: xImageHosts,
  // X bills and rate-limits every lookup: only signed URLs may cause them by default.
  restrictedByDefault: true,
  id: { syntax: 'the numeric X user id (1 to 19 digits)', example: '2244994945' },
  parseId: (raw) => (USER_ID.test(raw) ? ok(raw) : err('expected a numeric X user id (1 to 19 digits)')),
  resolve: (id, ctx) => resolveXUser(`/2/users/${encodeURIComponent(id)}`, ctx),
  // The background re-check asks for up to 100 users per call.
  resolveMany: { max: X_BATCH_MAX, run: (ids, ctx) => resolveXUsers(X_USERS_BY_IDS, ids, ctx) },
})
