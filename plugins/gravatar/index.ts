/**
 * Gravatar by email hash: `/image/gravatar/…/<sha256 or md5>.jpg`. The smallest complete plugin:
 * the image request *is* the API call, so it downloads the picture itself (plugins/gravatar/fake.ts
 * reproduces the endpoint).
 */
import { Type } from '@sinclair/typebox'
import { definePlugin, err, ok, UpstreamError } from '../../src/plugin-host/types.ts'
import { FetchError, toUpstreamError } from '../../src/plugin-host/upstream.ts'

const NETWORK = 'Gravatar'
// SHA-256 is current; MD5 ids from older integrations still work upstream.
const HASH = /^(?:[0-9a-f]{32}|[0-9a-f]{64})$/i
// Gravatar accepts `/avatar/<hash>.jpg`; the extension is a request for a format, not part of the id.
const EXTENSION = /\.(?:jpe?g|png)$/i

export default definePlugin({
  type: 'gravatar',
  settings: Type.Object({
    url: Type.String({ default: 'https://gravatar.com', env: 'HEADSHOT_GRAVATAR_URL', baseUrl: true }),
  }),
  // Gravatar hands out 0./secure./www. hosts interchangeably.
  hosts: ['gravatar.com', '*.gravatar.com'],
  id: {
    syntax: 'md5 or sha256 (hex) of the trimmed, lower-cased email address',
    example: 'e3264cf16f34ecd3c7c564f5668cbc1e',
  },

  parseId(raw) {
    const hash = raw.replace(EXTENSION, '')
    return HASH.test(hash) ? ok(hash.toLowerCase()) : err('expected an MD5 or SHA-256 hex hash')
  },

  async resolve(hash, { settings, http }) {
    // s=2048 is the largest size; d=404 turns "no avatar" into a 404 instead of the Gravatar logo.
    const url = `${settings.url}/avatar/${hash}?s=2048&d=404`
    try {
      return { kind: 'fetched', image: await http.getImage(url) }
    } catch (error) {
      if (error instanceof FetchError && error.code === 'http_status') {
        if (error.status === 404) return { kind: 'none' }
        if (error.status === 429) throw new UpstreamError('rate_limited', `${NETWORK}: HTTP 429`)
        throw new UpstreamError('unavailable', `${NETWORK}: HTTP ${error.status}`)
      }
      throw toUpstreamError(error, NETWORK)
    }
  },
})
