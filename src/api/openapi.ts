/**
 * `/openapi.json` and its reference page, generated from the routes Elysia knows: every route that
 * declares a `detail` is documented with the TypeBox schemas it validates with. Nothing is written
 * twice, and the page renders on the server, so it works offline and inside the binary.
 */
import type { AnyElysia } from 'elysia'

interface RouteLike {
  method: string
  path: string
  hooks?: {
    detail?: { summary?: string; tags?: string[]; security?: unknown[] }
    query?: unknown
    body?: unknown
    response?: Record<string, unknown>
  }
}

/** TypeBox schemas are JSON Schema plus symbol-keyed metadata; keep only the JSON part. */
const plain = (schema: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(schema ?? {}))

/** Elysia's `t.Numeric` is a string-or-number transform; in a query it is a number written as text. */
function cleanSchema(schema: Record<string, unknown>): Record<string, unknown> {
  const { anyOf } = schema as { anyOf?: Array<Record<string, unknown>> }
  if (Array.isArray(anyOf) && anyOf.some((s) => s.format === 'numeric')) {
    const number = anyOf.find((s) => s.type === 'number') ?? { type: 'number' }
    return cleanSchema(number)
  }
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(schema)) {
    // `error` is Elysia's custom validation message, not JSON Schema.
    if (key === 'optional' || key === '$id' || key === 'error') continue
    if (Array.isArray(value))
      out[key] = value.map((v) => (v && typeof v === 'object' ? cleanSchema(v as Record<string, unknown>) : v))
    else if (value && typeof value === 'object') out[key] = cleanSchema(value as Record<string, unknown>)
    else out[key] = value
  }
  return out
}

/** Unwraps `t.Optional(t.Object(...))` to the object. */
function objectSchema(schema: unknown): Record<string, unknown> | undefined {
  if (!schema) return undefined
  const json = cleanSchema(plain(schema))
  return json.type === 'object' ? json : undefined
}

const openApiPath = (path: string) => path.replace(/:([A-Za-z_]+)/g, '{$1}').replace(/\/\*$/, '/{public_id}')

export interface OpenApiInfo {
  version: string
  cloudName: string
}

export function buildOpenApi(app: AnyElysia, info: OpenApiInfo): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of app.routes as unknown as RouteLike[]) {
    const detail = route.hooks?.detail
    if (!detail?.summary) continue
    const path = openApiPath(route.path)
    const parameters: unknown[] = []
    for (const match of path.matchAll(/\{([^}]+)\}/g)) {
      const name = match[1]!
      parameters.push({
        name,
        in: 'path',
        required: true,
        schema: { type: 'string', ...(name === 'cloud' ? { example: info.cloudName } : {}) },
        description: name === 'public_id' ? 'May contain `/`; percent-encode other reserved characters' : undefined,
      })
    }
    const query = objectSchema(route.hooks?.query)
    for (const [name, schema] of Object.entries((query?.properties ?? {}) as Record<string, Record<string, unknown>>)) {
      const { description, ...rest } = schema
      parameters.push({ name, in: 'query', required: false, description, schema: rest })
    }
    const operation: Record<string, unknown> = {
      summary: detail.summary,
      tags: detail.tags,
      security: detail.security,
      parameters,
      responses: Object.fromEntries(
        Object.entries(route.hooks?.response ?? {}).map(([status, schema]) => [
          status,
          {
            description: status === '200' ? 'OK' : 'Error (`{"error":{"message"}}`)',
            content: { 'application/json': { schema: cleanSchema(plain(schema)) } },
          },
        ]),
      ),
    }
    const body = objectSchema(route.hooks?.body)
    if (body) {
      operation.requestBody = {
        required: route.method !== 'DELETE',
        content: Object.fromEntries(
          ['application/x-www-form-urlencoded', 'multipart/form-data', 'application/json'].map((type) => [
            type,
            { schema: body },
          ]),
        ),
      }
    }
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'headshot API',
      version: info.version,
      description:
        'Cloudinary-compatible Upload (explicit) and Admin API for social profile pictures. The official SDKs work unchanged when pointed at this server.',
    },
    components: {
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic', description: 'api_key:api_secret' },
        signature: {
          type: 'apiKey',
          in: 'query',
          name: 'signature',
          description:
            'Form fields api_key, timestamp and signature = hex sha1/sha256 of the sorted other fields joined with & + api_secret',
        },
      },
    },
    paths,
  }
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

function schemaSummary(schema: Record<string, unknown> | undefined): string {
  if (!schema) return ''
  if (Array.isArray(schema.anyOf))
    return (schema.anyOf as Array<Record<string, unknown>>).map(schemaSummary).join(' | ')
  if (schema.const !== undefined) return JSON.stringify(schema.const)
  if (schema.type === 'array') return `${schemaSummary(schema.items as Record<string, unknown>)}[]`
  const bounds = [
    schema.minimum !== undefined ? `≥ ${schema.minimum}` : '',
    schema.maximum !== undefined ? `≤ ${schema.maximum}` : '',
  ]
    .filter(Boolean)
    .join(', ')
  return `${String(schema.type ?? 'any')}${bounds ? ` (${bounds})` : ''}`
}

/** A readable, dependency-free reference page for the document (no scripts, no external assets). */
export function renderOpenApiPage(doc: Record<string, unknown>): string {
  const info = doc.info as { title: string; version: string; description: string }
  const sections: string[] = []
  for (const [path, operations] of Object.entries(
    doc.paths as Record<string, Record<string, Record<string, unknown>>>,
  )) {
    for (const [method, op] of Object.entries(operations)) {
      const params =
        (op.parameters as Array<{
          name: string
          in: string
          description?: string
          schema?: Record<string, unknown>
        }>) ?? []
      const body = (op.requestBody as { content: Record<string, { schema: Record<string, unknown> }> } | undefined)
        ?.content?.['application/x-www-form-urlencoded']?.schema
      const fields = Object.entries((body?.properties ?? {}) as Record<string, Record<string, unknown>>)
      const rows = [
        ...params.map((p) => [p.name, p.in, schemaSummary(p.schema), p.description ?? '']),
        ...fields.map(([name, s]) => [name, 'body', schemaSummary(s), String(s.description ?? '')]),
      ]
      sections.push(`<section>
<h2><span class="method ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h2>
<p>${escapeHtml(String(op.summary ?? ''))}</p>
${
  rows.length
    ? `<table><thead><tr><th scope="col">name</th><th scope="col">in</th><th scope="col">type</th><th scope="col">meaning</th></tr></thead><tbody>
${rows.map((r) => `<tr>${r.map((c, i) => `<td>${i === 0 ? `<code>${escapeHtml(c)}</code>` : escapeHtml(c)}</td>`).join('')}</tr>`).join('\n')}
</tbody></table>`
    : ''
}
<p class="responses">Responses: ${Object.keys((op.responses as object) ?? {}).join(', ')}</p>
</section>`)
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(info.title)} ${escapeHtml(info.version)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2330}
h1{font-size:1.6rem}h2{font-size:1.1rem;margin-top:2rem}code{font:13px ui-monospace,monospace;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #dde;padding:.3rem .5rem;text-align:left;vertical-align:top}
.method{display:inline-block;min-width:4.5rem;text-align:center;border-radius:4px;color:#fff;font-size:.8rem;padding:.1rem .4rem}
.get{background:#2b6cb0}.post{background:#2f855a}.delete{background:#c53030}.responses{color:#556}
</style></head><body>
<header><h1>${escapeHtml(info.title)} <small>${escapeHtml(info.version)}</small></h1>
<p>${escapeHtml(info.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> · <a href="/">home</a></p></header>
<main>${sections.join('\n')}</main></body></html>`
}
