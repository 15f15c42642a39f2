/**
 * Composition root: builds the store, plugins, image pipeline and routes from a Config.
 * `createApp` does no listening, so tests drive it with `app.handle(request)`.
 */
import { type AnyElysia, Elysia } from 'elysia'
import { builtinPlugins } from '../plugins/index.ts'
import { ConfigError, type Config, databasePassword } from './config.ts'
import { createDeliveryHandler } from './delivery/handler.ts'
import { PRESIGN_EXPIRES_SECONDS } from './delivery/respond.ts'
import { withRowCache } from './store/row-cache.ts'
import { createInvalidationFanout } from './store/fanout.ts'
import { loadNamedTransformations } from './delivery/named.ts'
import { createPlaceholders } from './delivery/placeholders.ts'
import { derivedImageKey, foldDpr } from './url/chain.ts'
import { parseChain } from './url/component.ts'
import { createHttpClient } from './fetch/client.ts'
import { DEFAULT_IMAGE_LIMITS } from './image/limits.ts'
import type { DeriveInput, DeriveOutput } from './image/types.ts'
import { createFaceRecorder, type DetectFaces } from './ingest/faces.ts'
import { createPictureSource } from './ingest/pictures.ts'
import { createSharedWork, localWork } from './ingest/shared-work.ts'
import { createApiRoutes } from './api/routes.ts'
import { createConsole } from './console/index.ts'
import { createSweeper, describeSweeperStatus, type Sweeper } from './refresh/sweeper.ts'
import { startSweepLeadership } from './refresh/leader.ts'
import { memoryPauses, postgresPauses } from './refresh/upstream-pauses.ts'
import { apiError } from './api/http.ts'
import { buildOpenApi, renderOpenApiPage } from './api/openapi.ts'
import { unversionedCacheControl, cacheTagOf } from './delivery/cache-tags.ts'
import { createDerivativeSource } from './ingest/derivatives.ts'
import { landing } from './landing.ts'
import { clientAddress, clientKey } from './lib/client-ip.ts'
import { createConcurrencyLimiter } from './lib/limiter.ts'
import { TokenBuckets } from './lib/token-bucket.ts'
import { readiness } from './readiness.ts'
import { createPurgeHook, type PurgeHook } from './manage/purge.ts'
import { createManageService } from './manage/service.ts'
import type { ManageService } from './manage/types.ts'
import pkg from '../package.json' with { type: 'json' }
import { Metrics } from './metrics.ts'
import { createAccessLayer } from './ops/access.ts'
import { COUNTED_BY_THE_POOL, DURATIONS, declareAppMetrics, GAUGES, SERIES } from './ops/app-metrics.ts'
import { cacheResultOf, deliveryOutcome } from './ops/delivery-outcome.ts'
import { createLogger, errorFields, type Logger } from './ops/log.ts'
import { monitorEventLoop, registerProcessMetrics } from './ops/process-metrics.ts'
import { measuredHttpClient, UPSTREAM_OUTCOMES } from './ops/upstream-metrics.ts'
import { currentTrace } from './lib/request-trace.ts'
import { secretSettingValues } from './plugin-host/settings.ts'
import { createPluginRegistry, type PluginRegistry } from './plugin-host/registry.ts'
import type { Plugin } from './plugin-host/types.ts'
import { withBlobCache } from './store/blob-cache.ts'
import { openBlobStore } from './store/open-blobs.ts'
import { collectGarbage, forgetExpiredAbsent as forgetAbsentRows, type GcReport } from './store/gc.ts'
import { type BlobPins, createBlobPins } from './store/pins.ts'
import { createStoreQuota, type StoreQuota } from './store/quota.ts'
import { createServedLog, type ServedLog } from './store/served.ts'
import { startStoreChores } from './store/chores.ts'
import { type DatabaseEngine, openRepository } from './store/open.ts'
import { createDerivePool, type DerivePool } from './workers/derive-pool.ts'
import { recycleThreshold, workerCount, workerMemory } from './workers/pool-size.ts'

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
  /**
   * On PostgreSQL, how often a standby instance tries to take the sweeper's lease and the leader
   * checks it still holds it (defaults 5 s and 1 s: src/refresh/leader.ts); tests shorten them.
   */
  leadership?: { retryMs?: number; checkMs?: number }
  /** Replaces the purge hook's fetch (tests). */
  purgeFetch?: typeof fetch
  /** Run transformations on the calling thread instead of a worker pool (tests, tiny deployments). */
  inlineDerive?: boolean
  /**
   * The socket peer's address of a request, for per-client limits. Default: the listening server's
   * `requestIP`; `app.handle(request)` has no socket, so tests name the peer here.
   */
  clientIp?: (request: Request) => string | undefined
  /** Where log lines go (default: JSON lines on stdout at HEADSHOT_LOG_LEVEL). */
  log?: Logger
  now?: () => number
}

export interface App {
  app: AnyElysia
  /** Delete remembered "no picture" answers past the negative TTL (runs every 5 minutes). */
  forgetExpiredAbsent(): Promise<number>
  /**
   * The store's upkeep: the bound (checked after writes and every minute), the served log behind
   * its order, the pins of blobs in use, and garbage collection (hourly; also `headshot gc`).
   */
  store: {
    quota: StoreQuota
    served: ServedLog
    pins: BlobPins
    collectGarbage(options?: { dryRun?: boolean }): Promise<GcReport>
    /**
     * Whether the periodic chores (every 5 minutes, every minute, hourly) run on this instance now:
     * always on SQLite; on PostgreSQL on the sweep's leader, or on an instance that never leads.
     */
    housekeeping(): boolean
  }
  manage: ManageService
  sweeper: Sweeper
  /** Serve one request (request id, access log); `peer` is the client's address when known. */
  handle(request: Request, peer?: string): Promise<Response>
  /** Requests being served right now. */
  readonly inFlight: number
  /** A shutdown began: /readyz answers 503 and answers ask clients to close their connection. */
  drain(): void
  /** The app's logger (credentials redacted). */
  log: Logger
  /**
   * Settles when the metadata backend can serve (PostgreSQL: connected and migrated; SQLite: at
   * once). Start listening only after it; it rejects when the database cannot be used.
   */
  ready: Promise<void>
  /** The metadata backend in use (HEADSHOT_DATABASE_URL). */
  engine: DatabaseEngine
  reloadNamedTransformations(): string | undefined
  close(): Promise<void>
}

export function createApp(config: Config, options: AppOptions = {}): App {
  const env = options.env ?? process.env
  const baseLog = options.log ?? createLogger({ level: config.logLevel })
  // SQLite in the data directory, or PostgreSQL (HEADSHOT_DATABASE_URL); `ready` says when it serves.
  const opened = openRepository(config)
  const { engine } = opened
  // Warm hits read picture and derivative rows from memory; every write through `repo` drops what it changes.
  const repo = withRowCache(opened.repo, { onEvicted: (type, publicId) => fanout.publish({ type, publicId }) })
  // PostgreSQL: what drops this instance's caches is told to the others (LISTEN/NOTIFY), and what
  // they tell drops ours; never the purge hook, which the instance that made the change calls.
  const fanout = createInvalidationFanout({
    channel: opened.channel,
    onEvent: (event) => {
      if ('all' in event) repo.clear()
      else repo.invalidate(event.type, event.publicId)
      deliver.invalidate()
    },
    warn: (message, fields) => log.warn(message, fields),
  })
  // Serving starts once the database serves and this instance hears the others' changes.
  const ready = opened.ready.then(() => fanout.listening)
  // Local disk by default, or an S3 bucket (HEADSHOT_S3_*); either way the in-memory LRU is in front.
  const blobStore = openBlobStore(config)
  // The image caches' memory (HEADSHOT_CACHE_MB): two thirds hold stored images, which every warm
  // hit of a URL not seen within the second reads; a third holds whole answers to repeated URLs.
  const blobCacheBytes = Math.round((config.cacheBytes * 2) / 3)
  const blobs = withBlobCache(blobStore.store, { maxBytes: blobCacheBytes })
  const metrics = new Metrics()
  declareAppMetrics(metrics)
  const processMetrics = new Metrics('')
  registerProcessMetrics(processMetrics)
  const stopLagMonitor = monitorEventLoop(metrics)
  const pins = createBlobPins()
  const served = createServedLog({ repo })
  const quota = createStoreQuota({
    repo,
    blobs,
    maxBytes: config.maxStoreBytes,
    pins,
    served,
    now: options.now,
    log: (line) => log.warn(line),
    onUsage: (usage) => metrics.set(SERIES.storeBytes[0], SERIES.storeBytes[1], {}, usage.bytes),
    onEvicted: (kind, count) => metrics.inc(...SERIES.storeEvictions, { kind }, count),
  })
  // Image downloads from every network share one cap: 16 at once, 4 per upstream host.
  const downloads = createConcurrencyLimiter({ total: 16, perKey: 4 })
  const registry = createPluginRegistry(
    options.plugins ?? builtinPlugins,
    env,
    ({ network, trustedOrigins, allowedHosts }) => {
      metrics.histogram(...DURATIONS.upstream, { labels: [{ network }] })
      for (const outcome of UPSTREAM_OUTCOMES) metrics.inc(...SERIES.upstreamRequests, { network, outcome }, 0)
      const http = createHttpClient({
        downloads,
        trustedOrigins,
        allowedHosts,
        resolve: options.resolve,
        limits: {
          maxBytes: config.fetchMaxBytes,
          maxPixels: config.fetchMaxPixels,
          totalTimeoutMs: config.fetchTimeoutMs,
        },
      })
      return measuredHttpClient(http, (seconds, outcome) => {
        metrics.observe(...DURATIONS.upstream, { network }, seconds)
        metrics.inc(...SERIES.upstreamRequests, { network, outcome })
      })
    },
  )
  // No log line may carry a credential: the API secret, nor any plugin's.
  const log = baseLog.redacting([
    config.apiSecret,
    ...(config.s3 ? [config.s3.secretAccessKey] : []),
    databasePassword(config.databaseUrl),
    ...registry.types().flatMap((type) => {
      const loaded = registry.get(type)!
      return secretSettingValues(loaded.plugin, loaded.settings)
    }),
  ])
  // Temp files (disk) or unfinished uploads (S3) of writes a crash interrupted are never read;
  // clear those older than an hour.
  void blobStore.store
    .sweepLeftovers(3_600_000)
    .catch((error) => log.warn('blob leftover sweep failed', errorFields(error, false)))
  const restrictedTypes = resolveRestrictedTypes(config.restrictedTypes, registry)
  // PostgreSQL: one instance fetches a picture or makes a derived image, the others wait for it
  // (leases in the database). SQLite: one process, whose single-flight already does that.
  const shared = opened.leases
    ? createSharedWork({
        leases: opened.leases,
        ttlMs: config.leaseTtlMs,
        onWait: () => metrics.inc(...SERIES.leaseWaits),
        onTakeover: () => metrics.inc(...SERIES.leaseTakeovers),
        warn: (message, fields) => log.warn(message, fields),
      })
    : localWork()
  // Networks that told us to stop: one map in this process (SQLite), or one table every instance
  // on the PostgreSQL database reads before calling the network (src/refresh/upstream-pauses.ts).
  const pauses = opened.client
    ? postgresPauses(opened.client, { now: options.now, warn: (message, fields) => log.warn(message, fields) })
    : memoryPauses(options.now)
  const pictures = createPictureSource({
    pauses,
    repo,
    blobs,
    shared,
    // Past the row cache: a row another instance just stored is seen at once.
    freshRows: opened.repo,
    refreshTtlMs: config.refreshTtlMs,
    negativeTtlMs: config.negativeTtlMs,
    now: options.now,
    onStored: () => quota.noteWrite(),
    onRefreshError: (picture, error) => {
      metrics.inc(...SERIES.refreshErrors)
      log.warn(`refresh ${picture.type}/${picture.publicId} failed`, errorFields(error, false))
    },
    onChange: (before) => {
      metrics.inc(...SERIES.picturesChanged)
      deliver.invalidate()
      fanout.publish({ type: before.type, publicId: before.publicId })
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
            log.warn(`purge ${event.tag}: ${outcome}`, detail ? { detail } : undefined)
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
    const memoryBytes = workerMemory(config.workerMemoryBytes)
    const size = workerCount({ workers: config.workers, memoryBytes, limits: DEFAULT_IMAGE_LIMITS })
    pool = createDerivePool({
      workerUrl: new URL('./workers/derive-worker.ts', import.meta.url),
      limits: DEFAULT_IMAGE_LIMITS,
      timeoutMs: config.deriveTimeoutMs,
      size,
      recycleBytes: config.workerRecycleBytes ?? recycleThreshold(memoryBytes, size),
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
    shared,
    derive: async (input, job) => {
      metrics.inc(...SERIES.derives)
      const started = performance.now()
      try {
        return await derive(input, job)
      } finally {
        metrics.observe(...DURATIONS.derive, {}, (performance.now() - started) / 1000)
      }
    },
    served,
    pins,
    onStored: () => quota.noteWrite(),
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
    served,
    pins,
    redirectOriginals:
      blobStore.kind === 's3' && config.s3RedirectBytes !== undefined
        ? {
            minBytes: config.s3RedirectBytes,
            urlFor: (hash, contentType) =>
              blobStore.store.presign(hash, { contentType, expiresInSeconds: PRESIGN_EXPIRES_SECONDS }),
          }
        : undefined,
    hotCacheTtlMs: options.hotCacheTtlMs,
    hotCacheBytes: config.cacheBytes - blobCacheBytes,
    clientWork:
      config.clientRatePerMinute > 0
        ? new TokenBuckets({ perMinute: config.clientRatePerMinute, burst: config.clientBurst, maxClients: 65_536 })
        : undefined,
    onClientLimited: () => metrics.inc(...SERIES.clientLimited),
    now: options.now,
    // A 500 is a bug: its stack. Upstream trouble (502–504) is routine: one warning with the upstream's detail.
    log: (message, error) => (error === undefined ? log.warn(message) : log.error(message, errorFields(error, true))),
  })

  type Peer = { requestIP(request: Request): { address: string } | null } | null | undefined
  /** Who sent a delivery request: the peer, or what trusted proxies say (src/lib/client-ip.ts). */
  const clientOf = (request: Request, server: Peer): string | undefined => {
    const peer = options.clientIp ? options.clientIp(request) : (server?.requestIP(request)?.address ?? undefined)
    const address = clientAddress(peer, request.headers.get('x-forwarded-for'), config.trustedProxies)
    return address && clientKey(address)
  }
  const deliveryRoute = async ({ request, server }: { request: Request; server: Peer }) => {
    const started = performance.now()
    const response = await deliver(request, () => clientOf(request, server))
    const trace = currentTrace()
    const outcome = deliveryOutcome(response.status, trace)
    const cache = cacheResultOf(outcome)
    metrics.inc(...SERIES.deliveryResponses, { status: String(response.status) })
    metrics.observe(...DURATIONS.delivery, { outcome }, (performance.now() - started) / 1000)
    if (cache) {
      metrics.inc(...SERIES.deliveryCache, { result: cache })
      if (trace) trace.cache = cache
    }
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
    forgetResponses: (picture) => {
      deliver.invalidate()
      fanout.publish({ type: picture.type, publicId: picture.publicId })
    },
    purge: purge ? (event) => purge.notify(event) : undefined,
  })

  // Aborted by `close`: what has not started yet (the lease, a garbage collection) never starts.
  const stopping = new AbortController()
  // One sweeper per database: this process on SQLite, the lease's holder on PostgreSQL.
  const leadership = startSweepLeadership({
    engine,
    databaseUrl: config.databaseUrl,
    sweepEnabled: config.sweepCallsPerMinute > 0,
    ready: opened.ready,
    signal: stopping.signal,
    ...options.leadership,
    log,
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
    log: (line) => log.warn(line),
    pauses,
    leading: () => leadership.leading,
  })
  if (options.sweep ?? true) sweeper.start()
  metrics.gauge(...GAUGES.sweepLeader, () => (sweeper.status().leader ? 1 : 0))

  // The periodic store chores (forgetting expired answers, the store bound, garbage collection)
  // read and list the whole shared store: on PostgreSQL the sweep's leader does them for everyone.
  // An instance that never competes for the lease (sweep off) keeps doing its own: they are safe
  // to run side by side, only wasteful, and nobody may be left to do them.
  const housekeeper = () => !leadership.established || leadership.leading

  // Remembered "no picture" answers older than the negative TTL are asked again on request anyway:
  // forget them, so random unsigned ids (a Gravatar hash per request) cannot grow the table forever.
  const forgetExpiredAbsent = async (): Promise<number> => {
    const total = await forgetAbsentRows(repo, (options.now ?? Date.now)() - config.negativeTtlMs)
    if (total > 0) metrics.inc(...SERIES.absentForgotten, {}, total)
    return total
  }
  const store = {
    housekeeping: () => housekeeper(),
    quota,
    served,
    pins,
    async collectGarbage(gcOptions: { dryRun?: boolean } = {}) {
      const report = await collectGarbage({
        repo,
        blobs,
        pins,
        quota,
        negativeTtlMs: config.negativeTtlMs,
        dryRun: gcOptions.dryRun,
        signal: stopping.signal,
        now: options.now,
      })
      if (!report.dryRun && report.expiredAbsent > 0) metrics.inc(...SERIES.absentForgotten, {}, report.expiredAbsent)
      return report
    },
  }
  // Every 5 minutes, every minute and hourly, on the housekeeper; the bound once now on any instance.
  const chores = startStoreChores({
    periodic: options.sweep !== false,
    housekeeping: housekeeper,
    forgetExpiredAbsent,
    enforceBound: () => quota.enforce(),
    collectGarbage: () => store.collectGarbage(),
    signal: stopping.signal,
    warn: (message, error) => log.warn(message, errorFields(error, false)),
  })

  const api = createApiRoutes({
    cloudName: config.cloudName,
    apiKey: config.apiKey,
    apiSecret: config.apiSecret,
    manage,
    rateLimitPerHour: config.adminRateLimit,
    publicUrl: config.publicUrl,
    now: options.now,
    log: (message) => log.error(message),
  })
  let openApi: Record<string, unknown> | undefined
  const openApiDocument = () => (openApi ??= buildOpenApi(api, { version: pkg.version, cloudName: config.cloudName }))

  let draining = false
  metrics.gauge(...GAUGES.workersBusy, () => pool?.busy ?? 0)
  metrics.gauge(...GAUGES.workersQueued, () => pool?.queued ?? 0)
  metrics.gauge(...GAUGES.workersWasm, () => pool?.wasmBytes ?? 0)
  metrics.cumulative(...COUNTED_BY_THE_POOL.workerRecycles, () => pool?.recycled ?? 0)
  metrics.gauge(...GAUGES.inFlight, () => access.inFlight)

  const app = new Elysia({ normalize: false })
    .get('/', ({ request }) => landing(request, pkg.version, registry.types()))
    .get('/healthz', () => Response.json({ status: 'ok' }))
    .get('/readyz', () =>
      readiness({
        repo,
        engine,
        dataDir: config.dataDir,
        s3:
          blobStore.kind === 's3'
            ? { bucket: blobStore.store.bucket, check: () => blobStore.store.check() }
            : undefined,
        workers: pool ? () => ({ busy: pool!.busy, queued: pool!.queued }) : undefined,
        draining: () => draining,
      }),
    )
    .get(
      '/metrics',
      () =>
        new Response(metrics.render() + processMetrics.render(), {
          headers: { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' },
        }),
    )
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
        // The sweeper's pauses are in the app's clock: judge them by it, not by real time.
        sweeperStatus: () => describeSweeperStatus(sweeper.status(), (options.now ?? Date.now)()),
        log: (message) => log.error(message),
      }),
    )
    // Unknown API paths answer in the API's shape, never reach the delivery route.
    .get('/v1_1/*', () => apiError(404, 'Not found'))
    .post('/v1_1/*', () => apiError(404, 'Not found'))
    .delete('/v1_1/*', () => apiError(404, 'Not found'))
    .get('/*', deliveryRoute)
    .head('/*', deliveryRoute)

  const access = createAccessLayer((request) => app.handle(request), { log, draining: () => draining })

  return {
    app,
    manage,
    sweeper,
    log,
    ready,
    engine,
    handle: (request, peer) => access.handle(request, peer),
    get inFlight() {
      return access.inFlight
    },
    drain() {
      draining = true
    },
    reloadNamedTransformations: () => {
      const failure = named.reload()
      if (!failure) deliver.invalidate()
      return failure
    },
    forgetExpiredAbsent,
    store,
    async close() {
      chores.stop()
      stopLagMonitor()
      stopping.abort()
      // A running sweep round uses the store: let it finish before the store closes. Then hand the
      // lease on (closing its session frees the lock at once).
      await sweeper.stop()
      await leadership.close()
      purge?.close()
      await pool?.close()
      await quota.idle()
      await served.close()
      await fanout.close()
      await shared.close()
      await repo.close()
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
