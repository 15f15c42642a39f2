/**
 * `GET /`: what this server is and where to go next (the Media Library, the API reference, health),
 * as a small page, or JSON for `Accept: application/json`. It names no secret and no setting.
 */
const LINKS = [
  { rel: 'console', href: '/console', title: 'Media Library' },
  { rel: 'openapi', href: '/openapi.json', title: 'OpenAPI description of the API' },
  { rel: 'docs', href: '/openapi', title: 'API reference' },
  { rel: 'health', href: '/healthz', title: 'Health' },
  { rel: 'metrics', href: '/metrics', title: 'Prometheus metrics' },
]

export function landing(request: Request, version: string, types: readonly string[]): Response {
  const accept = request.headers.get('accept') ?? ''
  const headers = { 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' }
  if (/application\/json/i.test(accept) && !/text\/html/i.test(accept)) {
    return Response.json({ name: 'headshot', version, delivery_types: types, links: LINKS }, { headers })
  }
  const items = LINKS.map((l) => `<li><a href="${l.href}">${l.title}</a> <code>${l.href}</code></li>`).join('')
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>headshot ${version}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1d2330}code{color:#556;overflow-wrap:anywhere}</style>
</head><body><main><h1>headshot <small>${version}</small></h1>
<p>Social profile pictures at any size and crop, with Cloudinary-compatible URLs and API.</p>
<p>Delivery types: ${types.map((t) => `<code>${t}</code>`).join(', ')}. Example: <code>/image/gravatar/c_fill,w_80,h_80/&lt;md5&gt;.jpg</code></p>
<ul>${items}</ul></main></body></html>`
  return new Response(html, {
    headers: {
      ...headers,
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
    },
  })
}
