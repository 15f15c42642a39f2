/**
 * Composition root: builds the store, plugins, image pipeline and routes from a Config.
 * `createApp` does no listening, so tests drive it with `app.handle(request)`.
 */
import { type AnyElysia, Elysia } from 'elysia'
import { join } from 'node:path'
import { builtinPlugins } from '../plugins/index.ts'
import { ConfigError, type Config } from './config.ts'
import { createDeliveryHandler } from './delivery/handler.ts'
import { loadNamedTransformations } from './delivery/named.ts'
import { createPlaceholders } from './delivery/placeholders.ts'
import { derivedImageKey, foldDpr } from './url/chain.ts'
import { parseChain } from './url/component.ts'
import { createHttpClient } from './fetch/client.ts'
import { DEFAULT_IMAGE_LIMITS } from './image/limits.ts'
import type { DeriveInput, DeriveOutput } from './image/types.ts'
import { createFaceRecorder, type DetectFaces } from './ingest/faces.ts'
import { createPictureSource } from './ingest/pictures.ts'
import { createApiRoutes } from './api/routes.ts'
import { createConsole } from './console/index.ts'
import { createSweeper, describeSweeperStatus, type Sweeper } from './refresh/sweeper.ts'
import { apiError } from './api/http.ts'
import { buildOpenApi, renderOpenApiPage } from './api/openapi.ts'
import { unversionedCacheControl, cacheTagOf } from './delivery/cache-tags.ts'
import { createDerivativeSource } from './ingest/derivatives.ts'
import { landing } from './landing.ts'
import { createConcurrencyLimiter } from './lib/limiter.ts'
import { readiness } from './readiness.ts'
import { createPurgeHook, type PurgeHook } from './manage/purge.ts'
import { createManageService } from './manage/service.ts'
import type { ManageService } from './manage/types.ts'
import pkg from '../package.json' with { type: 'json' }
import { Metrics } from './metrics.ts'
import { createPluginRegistry, type PluginRegistry } from './plugin-host/registry.ts'
import type { Plugin } from './plugin-host/types.ts'
import { withBlobCache } from './store/blob-cache.ts'
import { createDiskBlobStore } from './store/blobs.ts'
import { openSqliteRepository } from './store/sqlite.ts'
import { createDerivePool, type DerivePool } from './workers/derive-pool.ts'
import { workerCount } from './workers/pool-size.ts'

/** Every series the app counts, declared at start so /metrics shows it (at 0) from the first scrape. */
const SERIES = {
  absentForgotten: ['absent_forgotten_total', 'Remembered "no picture" answers deleted after the negative TTL'],
  refreshErrors: ['refresh_errors_total', 'Background re-checks that failed (the stored copy is still served)'],
  picturesChanged: ['pictures_changed_total', 'Pictures whose upstream changed or went away on re-check'],
  purgeRequests: ['purge_requests_total', 'CDN purge hook calls by outcome'],
  faceDetections: ['face_detections_total', 'Originals scanned for faces'],
  derives: ['derives_total', 'Transformations computed (cache misses)'],
  deliveryResponses: ['delivery_responses_total', 'Delivery responses by status'],
} as const

export interface AppOptions {
  /** Environment for plugin settings (base URLs, credentials). Defaults to process.env. */
  env?: Record<string, string | undefined>
  plugins?: readonly Plugin[]
  /** DNS resolver override for the SSRF guard (tests). */
  resolve?: (hostname: string) => Promise<string[]>
  /** Identical requests answered from memory for this long (default 1 s; 0 = off, e.g. to benchmark the store path). */
  hotCacheTtlMs?: number
  /** Run the background refresh sweeper on its timer (default true; tests call `sweeper.tick()` instead). */
  sweep?: boolean
  /** Replaces the purge hook's fetch (tests). */
  purgeFetch?: typeof fetch
  /** Run transformations on the calling thread instead of a worker pool (tests, tiny deployments). */
  inlineDerive?: boolean
  now?: () => number
}

export interface App {
  app: AnyElysia
  /** Delete remembered "no picture" answers past the negative TTL (runs every 5 minutes). */
  forgetExpiredAbsent(): Promise<number>
  manage: ManageService
  sweeper: Sweeper
  handle(request: Request): Promise<Response>
  reloadNamedTransformations(): string | undefined
  close(): Promise<void>
}

export function createApp(config: Config, options: AppOptions = {}): App {
  const env = options.env ?? process.env
  const repo = openSqliteRepository(join(config.dataDir, 'headshot.db'))
  const diskBlobs = createDiskBlobStore(join(config.dataDir, 'blobs'))
  // Temp files of writes a crash interrupted are never read; clear those older than an hour.
  void diskBlobs.sweepTempFiles(60).catch((error) => console.error(`blob temp sweep: ${(error as Error)?.message}`))
  const blobs = withBlobCache(diskBlobs)
  const metrics = new Metrics()
  for (const [name, help] of Object.values(SERIES)) metrics.declare(name, help)
  // Image downloads from every network share one cap: 16 at once, 4 per upstream host.
  const downloads = createConcurrencyLimiter({ total: 16, perKey: 4 })
  const registry = createPluginRegistry(options.plugins ?? builtinPlugins, env, ({ trustedOrigins, allowedHosts }) =>
    createHttpClient({
      downloads,
      trustedOrigins,
      allowedHosts,
      resolve: options.resolve,
      limits: {
        maxBytes: config.fetchMaxBytes,
        maxPixels: config.fetchMaxPixels,
        totalTimeoutMs: config.fetchTimeoutMs,
      },
    }),
  )
  const restrictedTypes = resolveRestrictedTypes(config.restrictedTypes, registry)
  const pictures = createPictureSource({
    repo,
    blobs,
    refreshTtlMs: config.refreshTtlMs,
    negativeTtlMs: config.negativeTtlMs,
    now: options.now,
    onRefreshError: (picture, error) => {
      metrics.inc(...SERIES.refreshErrors)
      console.error(`refresh ${picture.type}/${picture.publicId}: ${(error as Error)?.message ?? error}`)
    },
    onChange: (before) => {
      metrics.inc(...SERIES.picturesChanged)
      deliver.invalidate()
      const paths = [`/image/${before.type}/${encodeURIComponent(before.publicId)}`]
      if (before.format) paths.push(`${paths[0]}.${before.format}`)
      purge?.notify({
        tag: cacheTagOf(before.type, before.publicId),
        type: before.type,
        publicId: before.publicId,
        reason: 'changed',
        paths,
      })
    },
  })
  const purge: PurgeHook | undefined = config.purgeUrl
    ? createPurgeHook({
        url: config.purgeUrl,
        secret: config.apiSecret,
        fetch: options.purgeFetch,
        onResult: (outcome, event, detail) => {
          metrics.inc(...SERIES.purgeRequests, { outcome })
          if (outcome === 'failed' || outcome === 'dropped')
            console.error(`purge ${event.tag}: ${outcome}${detail ? ` (${detail})` : ''}`)
        },
      })
    : undefined
  const named = loadNamedTransformations(config.transformationsFile)

  let pool: DerivePool | undefined
  let derive: (input: DeriveInput, job?: { signal?: AbortSignal }) => Promise<DeriveOutput>
  let detect: DetectFaces
  if (options.inlineDerive) {
    derive = async (input) => (await import('./image/pipeline.ts')).deriveImage(input, DEFAULT_IMAGE_LIMITS)
    detect = async (bytes, format) => (await import('./image/faces/find.ts')).findFaces(bytes, format)
  } else {
    pool = createDerivePool({
      workerUrl: new URL('./workers/derive-worker.ts', import.meta.url),
      limits: DEFAULT_IMAGE_LIMITS,
      timeoutMs: config.deriveTimeoutMs,
      size: workerCount({
        workers: config.workers,
        memoryBytes: config.workerMemoryBytes,
        limits: DEFAULT_IMAGE_LIMITS,
      }),
    })
    derive = (input, job) => pool!.derive(input, job)
    detect = (bytes, format, job) => pool!.detectFaces(bytes, format, job)
  }
  const ensureFaces = createFaceRecorder({
    repo,
    blobs,
    detect: async (bytes, format, job) => {
      metrics.inc(...SERIES.faceDetections)
      return detect(bytes, format, job)
    },
  })

  const derivatives = createDerivativeSource({
    repo,
    blobs,
    derive: async (input, job) => {
      metrics.inc(...SERIES.derives)
      return derive(input, job)
    },
    now: options.now,
  })

  const deliver = createDeliveryHandler({
    cloudName: config.cloudName,
    apiSecret: config.apiSecret,
    restrictedTypes,
    signType: config.signType,
    registry,
    pictures,
    repo,
    blobs,
    derive,
    derivatives,
    unversionedCacheControl: unversionedCacheControl(config.refreshTtlMs, purge !== undefined),
    imageLimits: DEFAULT_IMAGE_LIMITS,
    workBudgets: config.workBudgets,
    namedTransformation: (name) => named.get(name),
    strictTransformations: config.strictTransformations
      ? { allowed: canonicalAllowList(config.allowedTransformations) }
      : undefined,
    placeholders: createPlaceholders(config.placeholdersDir),
    ensureFaces,
    hotCacheTtlMs: options.hotCacheTtlMs,
    now: options.now,
  })

  const deliveryRoute = async ({ request }: { request: Request }) => {
    const response = await deliver(request)
    metrics.inc(...SERIES.deliveryResponses, { status: String(response.status) })
    return response
  }

  const manage = createManageService({
    apiSecret: config.apiSecret,
    restrictedTypes,
    signType: config.signType,
    registry,
    repo,
    blobs,
    pictures,
    derivatives,
    ensureFaces,
    namedTransformation: (name) => named.get(name),
    imageLimits: DEFAULT_IMAGE_LIMITS,
    workBudget: config.workBudgets.signed,
    refreshTtlMs: config.refreshTtlMs,
    forgetResponses: () => deliver.invalidate(),
    purge: purge ? (event) => purge.notify(event) : undefined,
  })

  // Behind a CDN the origin rarely sees a request, so refresh-on-access alone would leave most
  // pictures unchecked: the sweeper re-checks due pictures within a per-network call budget.
  const sweeper = createSweeper({
    repo,
    registry,
    pictures,
    metrics,
    refreshTtlMs: config.refreshTtlMs,
    callsPerMinute: config.sweepCallsPerMinute,
    now: options.now,
    log: (line) => console.error(line),
  })
  if (options.sweep ?? true) sweeper.start()

  // Remembered "no picture" answers older than the negative TTL are asked again on request anyway:
  // forget them, so random unsigned ids (a Gravatar hash per request) cannot grow the table forever.
  const forgetExpiredAbsent = async (): Promise<number> => {
    let total = 0
    for (let round = 0; round < 100; round++) {
      const deleted = await repo.deleteExpiredAbsent((options.now ?? Date.now)() - config.negativeTtlMs, 1000)
      total += deleted
      if (deleted < 1000) break
    }
    if (total > 0) metrics.inc(...SERIES.absentForgotten, {}, total)
    return total
  }
  const janitor =
    options.sweep === false
      ? undefined
      : setInterval(() => void forgetExpiredAbsent().catch((error) => console.error(`janitor: ${error}`)), 300_000)
  ;(janitor as { unref?: () => void } | undefined)?.unref?.()

  const api = createApiRoutes({
    cloudName: config.cloudName,
    apiKey: config.apiKey,
    apiSecret: config.apiSecret,
    manage,
    rateLimitPerHour: config.adminRateLimit,
    now: options.now,
  })
  let openApi: Record<string, unknown> | undefined
  const openApiDocument = () => (openApi ??= buildOpenApi(api, { version: pkg.version, cloudName: config.cloudName }))

  const app = new Elysia({ normalize: false })
    .get('/', ({ request }) => landing(request, pkg.version, registry.types()))
    .get('/healthz', () => Response.json({ status: 'ok' }))
    .get('/readyz', () =>
      readiness({
        repo,
        dataDir: config.dataDir,
        workers: pool ? () => ({ busy: pool!.busy, queued: pool!.queued }) : undefined,
      }),
    )
    .get('/metrics', () => new Response(metrics.render(), { headers: { 'Content-Type': 'text/plain; version=0.0.4' } }))
    .get('/openapi.json', () => Response.json(openApiDocument(), { headers: { 'Cache-Control': 'no-cache' } }))
    .get(
      '/openapi',
      () =>
        new Response(renderOpenApiPage(openApiDocument()), {
          headers: {
            'Content-Type': 'text/html; charset=utf-8',
            'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
          },
        }),
    )
    .use(api)
    .use(
      createConsole({
        manage,
        apiKey: config.apiKey,
        apiSecret: config.apiSecret,
        cloudName: config.cloudName,
        now: options.now,
        sweeperStatus: () => describeSweeperStatus(sweeper.status()),
      }),
    )
    // Unknown API paths answer in the API's shape, never reach the delivery route.
    .get('/v1_1/*', () => apiError(404, 'Not found'))
    .post('/v1_1/*', () => apiError(404, 'Not found'))
    .delete('/v1_1/*', () => apiError(404, 'Not found'))
    .get('/*', deliveryRoute)
    .head('/*', deliveryRoute)

  return {
    app,
    manage,
    sweeper,
    handle: (request) => app.handle(request),
    reloadNamedTransformations: () => {
      const failure = named.reload()
      if (!failure) deliver.invalidate()
      return failure
    },
    forgetExpiredAbsent,
    async close() {
      if (janitor) clearInterval(janitor)
      // A running sweep round uses the store: let it finish before the store closes.
      await sweeper.stop()
      purge?.close()
      await pool?.close()
      repo.close()
    },
  }
}

/**
 * The types that need signed URLs: as configured, every name checked against the loaded plugins
 * (a typo must not silently leave a type open), or, when unset, each plugin's own default.
 */
export function resolveRestrictedTypes(
  configured: ReadonlySet<string> | undefined,
  registry: PluginRegistry,
): Set<string> {
  const known = registry.types()
  if (configured === undefined) return new Set(known.filter((type) => registry.get(type)?.plugin.restrictedByDefault))
  for (const type of configured) {
    if (!known.includes(type)) {
      throw new ConfigError(`HEADSHOT_RESTRICTED_TYPES: unknown delivery type "${type}" (loaded: ${known.join(', ')})`)
    }
  }
  return new Set(configured)
}

/** The strict-mode allow-list in canonical form, so `w_80,c_fill` and `c_fill,w_80` are one entry. */
function canonicalAllowList(texts: readonly string[]): Set<string> {
  const allowed = new Set<string>()
  for (const text of texts) {
    const parsed = parseChain(text)
    if (!parsed.ok) throw new Error(`HEADSHOT_ALLOWED_TRANSFORMATIONS: "${text}": ${parsed.error.message}`)
    allowed.add(derivedImageKey(foldDpr(parsed.value.components)))
  }
  return allowed
}
