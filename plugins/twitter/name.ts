/**
 * X (Twitter) profile pictures by username: `/image/twitter_name/…/jack.jpg`.
 * Usernames are case-insensitive on X, so `Jack` and `jack` are one stored picture.
 */
import { definePlugin, err, ok } from '../../src/plugin-host/types.ts'
import { resolveXUser, resolveXUsers, X_BATCH_MAX, X_USERS_BY_USERNAMES, xImageHosts, xSettings } from './x-api.ts'

// X's username schema (openapi.json); the API answers 400 for anything else.
const USERNAME = /^[A-Za-z0-9_]{1,15}$/

export default definePlugin({
  type: 'twitter_name',
  settings: xSettings,
  hosts: xImageHosts,
  restrictedByDefault: true,
  id: { syntax: 'the X username (1 to 15 letters, digits or _), any case', example: 'XDevelopers' },
  parseId: (raw) =>
    USERNAME.test(raw) ? ok(raw.toLowerCase()) : err('expected an X username (1 to 15 letters, digits or _)'),
  resolve: (username, ctx) => resolveXUser(`/2/users/by/username/${encodeURIComponent(username)}`, ctx),
  // The background re-check asks for up to 100 users per call.
  resolveMany: { max: X_BATCH_MAX, run: (ids, ctx) => resolveXUsers(X_USERS_BY_USERNAMES, ids, ctx) },
})
