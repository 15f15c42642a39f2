/**
 * Server configuration: one TypeBox schema is the single source of truth for names, defaults,
 * types and documentation (the table in docs/operations.md is generated from the same annotations
 * by `configTable()`). Every property names the environment variable it is read from
 * (operators and scripts rely on these names: add, never rename).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { writeFileAtomic } from './lib/atomic-write.ts'
import { type Cidr, parseCidrList } from './lib/client-ip.ts'
import type { LogLevel } from './ops/log.ts'
import type { WorkBudgets } from './image/budget.ts'
import { MAX_COMPONENTS } from './url/component.ts'
import type { S3Settings } from './store/s3-blobs.ts'

const Duration = (env: string, fallback: string, description: string) =>
  Type.String({ env, default: fallback, pattern: '^[0-9]+(ms|s|m|h|d)$', description })

/** A number of bytes, optionally with a decimal (kB, MB, GB, TB) or binary (KiB, MiB, GiB, TiB) unit. */
const BYTE_SIZE_PATTERN = '^[0-9]+(\\.[0-9]+)? ?([kKmMgGtT][iI]?[bB]|[bB])?$'

export const ConfigSchema = Type.Object({
  port: Type.Integer({
    env: 'HEADSHOT_PORT',
    default: 8080,
    minimum: 0,
    maximum: 65535,
    description: 'listen port (`0` = any free port; the chosen port is printed)',
  }),
  host: Type.String({ env: 'HEADSHOT_HOST', default: '0.0.0.0', description: 'listen address' }),
  shutdownDelay: Duration(
    'HEADSHOT_SHUTDOWN_DELAY',
    '0s',
    'on SIGTERM/SIGINT, how long to go on serving with `/readyz` at 503 before new connections are refused ' +
      '(time for a load balancer to notice, e.g. `5s` behind Kubernetes)',
  ),
  shutdownTimeout: Duration(
    'HEADSHOT_SHUTDOWN_TIMEOUT',
    '10s',
    'then, how long requests under way may take to finish before their connections are cut',
  ),
  logLevel: Type.String({
    env: 'HEADSHOT_LOG_LEVEL',
    default: 'info',
    pattern: '^(debug|info|warn|error|silent)$',
    description:
      'lowest level of the JSON log lines on stdout: `debug` (adds probes and scrapes), `info` (one line per ' +
      'request), `warn`, `error`, `silent`',
  }),
  dataDir: Type.String({
    env: 'HEADSHOT_DATA_DIR',
    default: './data',
    minLength: 1,
    description: 'SQLite file and stored images',
  }),
  cloudName: Type.String({
    env: 'HEADSHOT_CLOUD_NAME',
    default: 'local',
    pattern: '^[A-Za-z0-9_-]+$',
    description: 'the cloud name accepted as the optional first path segment and in API paths',
  }),
  apiKey: Type.Optional(
    Type.String({
      env: 'HEADSHOT_API_KEY',
      minLength: 1,
      description: 'API key (development: generated and stored in the data dir)',
    }),
  ),
  apiSecret: Type.Optional(
    Type.String({
      env: 'HEADSHOT_API_SECRET',
      minLength: 1,
      description: 'API secret and URL-signing secret (development: generated and stored in the data dir)',
    }),
  ),
  restrictedTypes: Type.Optional(
    Type.String({
      env: 'HEADSHOT_RESTRICTED_TYPES',
      description:
        'delivery types that need a signed URL (`none` for none); unset: the types whose plugin restricts them ' +
        'by default (facebook, twitter, twitter_name, mastodon). An unknown type stops start-up',
    }),
  ),
  signType: Type.Boolean({
    env: 'HEADSHOT_SIGN_TYPE',
    default: false,
    description:
      'when `true`, the delivery type is part of the signed text, so a signature made for one network cannot be ' +
      'replayed on another (SDK-made signatures then stop working: sign with `headshot sign`)',
  }),
  refreshTtl: Duration(
    'HEADSHOT_REFRESH_TTL',
    '7d',
    'how long a fetched picture is trusted before it is re-checked upstream',
  ),
  negativeTtl: Duration(
    'HEADSHOT_NEGATIVE_TTL',
    '1h',
    'how long a "no picture" / "not found" answer is trusted before asking again',
  ),
  sweepRate: Type.Integer({
    env: 'HEADSHOT_SWEEP_RATE',
    // X allows 300 user lookups per 15 minutes to an app: 20 a minute keeps the sweep inside it.
    default: 20,
    minimum: 0,
    description:
      'upstream calls per minute per network for the background re-check of stored pictures ' +
      '(a batch lookup of up to 100 X users is one call); `0` turns it off',
  }),
  placeholdersDir: Type.Optional(
    Type.String({
      env: 'HEADSHOT_PLACEHOLDERS_DIR',
      description: 'images that `d_<name>` may name (default `<data dir>/placeholders`)',
    }),
  ),
  pluginsDir: Type.Optional(
    Type.String({
      env: 'HEADSHOT_PLUGINS_DIR',
      description:
        'drop-in plugin files (`*.ts`, `*.js`) loaded at start-up (default `<data dir>/plugins`, used if present; docs/plugins.md)',
    }),
  ),
  transformationsFile: Type.Optional(
    Type.String({
      env: 'HEADSHOT_TRANSFORMATIONS_FILE',
      description: 'named transformations for `t_<name>` (JSON object)',
    }),
  ),
  strictTransformations: Type.Boolean({
    env: 'HEADSHOT_STRICT_TRANSFORMATIONS',
    default: false,
    description:
      'when `true`, unsigned URLs may only use named transformations, the allow-list, or derivatives that already exist',
  }),
  allowedTransformations: Type.String({
    env: 'HEADSHOT_ALLOWED_TRANSFORMATIONS',
    default: '',
    description:
      'with strict transformations: `|`-separated transformations unsigned URLs may use, e.g. `c_fill,h_80,w_80|c_thumb,g_face,h_150,w_150/r_max`',
  }),
  maxWork: Type.Integer({
    env: 'HEADSHOT_MAX_WORK',
    default: 500,
    minimum: 1,
    description:
      'work units one transformation may cost for a signed URL or the API (1 unit ≈ one megapixel through ' +
      'a simple pass, see [Work limits](#work-limits)); more is a 400',
  }),
  maxWorkUnsigned: Type.Integer({
    env: 'HEADSHOT_MAX_WORK_UNSIGNED',
    default: 120,
    minimum: 1,
    description: 'work units one transformation may cost for an unsigned URL',
  }),
  maxStepsUnsigned: Type.Integer({
    env: 'HEADSHOT_MAX_STEPS_UNSIGNED',
    default: 8,
    minimum: 1,
    maximum: MAX_COMPONENTS,
    description: `components doing pixel work an unsigned URL may chain (\`q_\`, \`f_\`, \`fl_\` are free; signed: ${MAX_COMPONENTS})`,
  }),
  maxUpscaleUnsigned: Type.Integer({
    env: 'HEADSHOT_MAX_UPSCALE_UNSIGNED',
    default: 8,
    minimum: 0,
    description:
      "unsigned URLs: no image along the chain wider or taller than this many times the source's longer side " +
      '(`0` = no cap; signed URLs have none)',
  }),
  deriveTimeout: Duration(
    'HEADSHOT_DERIVE_TIMEOUT',
    '20s',
    'longest one transformation or face detection may run in a worker; it is then ended (the worker is ' +
      'replaced) and the request answered `503`',
  ),
  workers: Type.Integer({
    env: 'HEADSHOT_WORKERS',
    default: 0,
    minimum: 0,
    description:
      'transformation workers (`0` = one per core, fewer when memory cannot hold that many at their peak: ' +
      'see [Work limits](#work-limits))',
  }),
  workerMemoryMb: Type.Integer({
    env: 'HEADSHOT_WORKER_MEMORY_MB',
    default: 0,
    minimum: 0,
    description:
      'memory the transformation workers may use together, MB, when sizing the pool (`0` = 3/4 of the ' +
      'cgroup limit, or of the RAM)',
  }),
  workerRecycleMb: Type.String({
    env: 'HEADSHOT_WORKER_RECYCLE_MB',
    default: 'auto',
    pattern: '^(auto|off|[0-9]+)$',
    description:
      'WebAssembly memory one transformation worker may keep after a job, MB; a worker holding more is ' +
      'replaced by a fresh one once it has answered and no job waits (`auto` = a quarter of its share of ' +
      "the workers' memory, 64 to 128 MB; `off` = never): see [Work limits](#work-limits)",
  }),
  cacheMb: Type.Integer({
    env: 'HEADSHOT_CACHE_MB',
    default: 96,
    minimum: 0,
    description:
      'memory for the caches of images in the server, MB: two thirds for stored images (each up to 1 MB), ' +
      'one third for answers to URLs asked for again within a second (`0` = neither; every warm hit then ' +
      'reads the store): see [Memory](#memory)',
  }),
  fetchMaxBytes: Type.Integer({
    env: 'HEADSHOT_FETCH_MAX_BYTES',
    default: 10_000_000,
    minimum: 1024,
    description: 'largest upstream image download, bytes',
  }),
  fetchMaxPixels: Type.Integer({
    env: 'HEADSHOT_FETCH_MAX_PIXELS',
    default: 40_000_000,
    minimum: 1,
    description: 'largest upstream image, pixels (checked from the header before decoding)',
  }),
  fetchTimeout: Duration('HEADSHOT_FETCH_TIMEOUT', '15s', 'total timeout of one upstream request'),
  leaseTtl: Duration(
    'HEADSHOT_LEASE_TTL',
    '30s',
    'PostgreSQL only: how long the lease of an instance fetching a picture or making a derived image lasts ' +
      'unless renewed (every third of it); the other instances wait for its result, and take the work over ' +
      'this long after the instance died',
  ),
  purgeUrl: Type.Optional(
    Type.String({
      env: 'HEADSHOT_PURGE_URL',
      pattern: '^https?://',
      description:
        'CDN purge hook: receives a signed POST with the cache tag and paths of a picture that changed, was invalidated or deleted',
    }),
  ),
  databaseUrl: Type.Optional(
    Type.String({
      env: 'HEADSHOT_DATABASE_URL',
      description:
        'where the metadata lives: unset, SQLite in the data directory; `postgres://user:password@host:5432/db` ' +
        '(or `postgresql://`), PostgreSQL, shared by every instance pointed at it (the images stay in the data directory unless `HEADSHOT_S3_*` moves them to a bucket)',
    }),
  ),
  maxStoreBytes: Type.Optional(
    Type.String({
      env: 'HEADSHOT_MAX_STORE_BYTES',
      pattern: BYTE_SIZE_PATTERN,
      description:
        'bound on the stored images (bytes, or with a unit: `500MB`, `2GiB`): past it the derived images served ' +
        'least recently are deleted down to 90 %, originals only when that is not enough; unset: unbounded',
    }),
  ),
  adminRateLimit: Type.Integer({
    env: 'HEADSHOT_ADMIN_RATE_LIMIT',
    default: 5000,
    minimum: 1,
    description: 'Admin and Upload API calls allowed per hour (reported in `X-FeatureRateLimit-*`)',
  }),
  clientRate: Type.Integer({
    env: 'HEADSHOT_CLIENT_RATE',
    default: 120,
    minimum: 0,
    description:
      'unsigned delivery requests per minute one client may make that need new work (an upstream fetch or a new ' +
      'derived image); stored images are never limited; `0` turns the limit off',
  }),
  clientBurst: Type.Integer({
    env: 'HEADSHOT_CLIENT_BURST',
    default: 60,
    minimum: 1,
    description: 'how many such requests a client may make at once before HEADSHOT_CLIENT_RATE paces it',
  }),
  trustedProxies: Type.String({
    env: 'HEADSHOT_TRUSTED_PROXIES',
    default: '',
    description:
      'comma-separated addresses or blocks (`10.0.0.0/8`, `fd00::/8`) of reverse proxies whose `X-Forwarded-For` ' +
      'names the client; other peers are the client themselves',
  }),
  publicUrl: Type.Optional(
    Type.String({
      env: 'HEADSHOT_PUBLIC_URL',
      pattern: '^https?://',
      description:
        'the URL clients reach this server on (e.g. `https://img.example.com`, a path prefix allowed), used for every ' +
        "absolute URL it writes; unset: the request's `Host` when it is a plain host[:port], else `localhost`",
    }),
  ),
  s3Endpoint: Type.Optional(
    Type.String({
      env: 'HEADSHOT_S3_ENDPOINT',
      pattern: '^https?://',
      description:
        'S3-compatible endpoint (e.g. `https://s3.eu-west-1.amazonaws.com`, path-style addressing) for the stored ' +
        'images instead of `<data dir>/blobs`; needs the four settings below (see [S3 storage](#s3-storage))',
    }),
  ),
  s3Bucket: Type.Optional(
    Type.String({ env: 'HEADSHOT_S3_BUCKET', minLength: 1, description: 'S3 bucket (must exist already)' }),
  ),
  s3Region: Type.Optional(
    Type.String({ env: 'HEADSHOT_S3_REGION', minLength: 1, description: 'S3 region (signing), e.g. `us-east-1`' }),
  ),
  s3AccessKeyId: Type.Optional(
    Type.String({ env: 'HEADSHOT_S3_ACCESS_KEY_ID', minLength: 1, description: 'S3 access key id' }),
  ),
  s3SecretAccessKey: Type.Optional(
    Type.String({
      env: 'HEADSHOT_S3_SECRET_ACCESS_KEY',
      minLength: 1,
      description: 'S3 secret access key (never logged)',
    }),
  ),
  s3Prefix: Type.Optional(
    Type.String({
      env: 'HEADSHOT_S3_PREFIX',
      description: 'put before every object key (`headshot/` → `headshot/blobs/ab/<sha256>`); unset: the bucket root',
    }),
  ),
  s3Timeout: Duration(
    'HEADSHOT_S3_TIMEOUT',
    '5s',
    'deadline of one S3 call (a `HEAD`, a whole `GET`, a `DELETE`, a listing page); a `PUT` gets 1 s more per ' +
      'started MB it uploads. Past it the request is answered `503` (see [S3 storage](#s3-storage))',
  ),
  s3RedirectBytes: Type.Optional(
    Type.String({
      env: 'HEADSHOT_S3_REDIRECT_BYTES',
      pattern: BYTE_SIZE_PATTERN,
      description:
        'with S3: an untransformed original at least this large (bytes, or `500kB`, `2MB`) is answered `302` to a ' +
        'presigned URL of its object (15 min) instead of through headshot; clients then fetch it from the bucket, ' +
        'so only for an endpoint clients can reach (see [Redirects to the bucket](#redirects-to-the-bucket)); unset: off',
    }),
  ),
  s3PublicEndpoint: Type.Optional(
    Type.String({
      env: 'HEADSHOT_S3_PUBLIC_ENDPOINT',
      pattern: '^https?://',
      description:
        'with HEADSHOT_S3_REDIRECT_BYTES: the endpoint presigned URLs name, when clients reach the bucket by ' +
        'another address than headshot does (e.g. `https://s3.example.com` for `http://rgw.internal:7480`); ' +
        'unset: HEADSHOT_S3_ENDPOINT',
    }),
  ),
  production: Type.Boolean({
    env: 'NODE_ENV',
    default: false,
    description: '`production` refuses to start without HEADSHOT_API_KEY/SECRET',
  }),
})

export type RawConfig = Static<typeof ConfigSchema>

/** The resolved configuration the rest of the program uses. */
export interface Config {
  port: number
  host: string
  /** On SIGTERM, how long to serve on with /readyz at 503 before refusing connections (HEADSHOT_SHUTDOWN_DELAY). */
  shutdownDelayMs: number
  /** Then, how long requests under way may take to finish (HEADSHOT_SHUTDOWN_TIMEOUT). */
  shutdownTimeoutMs: number
  logLevel: LogLevel
  dataDir: string
  /** PostgreSQL's URL (HEADSHOT_DATABASE_URL); undefined = SQLite in the data directory. */
  databaseUrl?: string
  cloudName: string
  apiKey: string
  apiSecret: string
  /** The delivery type is part of every signed text (HEADSHOT_SIGN_TYPE). */
  signType: boolean
  /** Types that need signed URLs, as configured; undefined = each plugin's own default. */
  restrictedTypes: ReadonlySet<string> | undefined
  refreshTtlMs: number
  negativeTtlMs: number
  /** Upstream calls per minute per network the background re-check may spend; 0 = no background re-check. */
  sweepCallsPerMinute: number
  placeholdersDir: string
  /** Drop-in plugin files (src/plugin-host/dropin.ts); the folder may not exist. */
  pluginsDir: string
  transformationsFile?: string
  strictTransformations: boolean
  /** Transformation texts unsigned URLs may use in strict mode (as written; canonicalised by delivery). */
  allowedTransformations: string[]
  /** What one derivation may cost, for signed URLs and the API, and for unsigned URLs (src/image/budget.ts). */
  workBudgets: WorkBudgets
  /** A worker job running longer is ended (worker replaced, 503). */
  deriveTimeoutMs: number
  /** Transformation workers; undefined = sized from cores and memory (src/workers/pool-size.ts). */
  workers?: number
  /** Memory the workers may use together; undefined = 3/4 of the cgroup limit or of the RAM. */
  workerMemoryBytes?: number
  /**
   * WebAssembly memory a worker may keep after a job before it is replaced; undefined = from the
   * workers' memory and count (src/workers/pool-size.ts, `recycleThreshold`); Infinity = never.
   */
  workerRecycleBytes?: number
  /** Memory of the image caches: stored images (two thirds) and hot answers (one third), HEADSHOT_CACHE_MB. */
  cacheBytes: number
  fetchMaxBytes: number
  fetchMaxPixels: number
  fetchTimeoutMs: number
  /** Work leases between instances on PostgreSQL run out this long after their holder stopped renewing (HEADSHOT_LEASE_TTL). */
  leaseTtlMs: number
  /** CDN purge hook URL (POSTed to when a picture changes, is invalidated or deleted). */
  purgeUrl?: string
  /** Bound on the bytes of stored images (HEADSHOT_MAX_STORE_BYTES); undefined = unbounded. */
  maxStoreBytes?: number
  /** Admin/Upload API calls per hour. */
  adminRateLimit: number
  /** Unsigned delivery requests needing new work, per minute per client; 0 = no per-client limit. */
  clientRatePerMinute: number
  clientBurst: number
  /** Peers whose X-Forwarded-For is believed (src/lib/client-ip.ts). */
  trustedProxies: Cidr[]
  /** HEADSHOT_PUBLIC_URL as host and path prefix (no trailing `/`); undefined = from the request's Host. */
  publicUrl?: { host: string; pathPrefix: string }
  /** Stored images in an S3-compatible bucket (HEADSHOT_S3_*); undefined = on disk under `<dataDir>/blobs`. */
  s3?: S3Settings
  /** HEADSHOT_S3_REDIRECT_BYTES: untransformed originals this large are redirected to the bucket; undefined = never. */
  s3RedirectBytes?: number
  production: boolean
  /** True when the API credentials were generated just now (print them once). */
  generatedCredentials: boolean
  /** Things an operator should know (e.g. a short secret in production). */
  warnings: string[]
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

export function parseDuration(text: string): number {
  const m = /^([0-9]+)(ms|s|m|h|d)$/.exec(text.trim())
  if (!m) throw new ConfigError(`Invalid duration "${text}" (use e.g. 30s, 15m, 12h, 7d)`)
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 }

/** `500MB` → 500 000 000, `2GiB` → 2 147 483 648, `1000` → 1000 (units ignore case; the schema's pattern decides what is accepted). */
export function parseByteSize(text: string): number {
  const m = new RegExp(BYTE_SIZE_PATTERN).exec(text.trim())
  if (!m) throw new ConfigError(`Invalid size "${text}" (use e.g. 500MB, 2GiB or a number of bytes)`)
  const unit = (m[2] ?? '').toLowerCase()
  const binary = unit.length === 3 // kib, mib, gib, tib
  const scale = binary ? 1024 ** ('kmgt'.indexOf(unit[0]!) + 1) : BYTE_UNITS[unit[0] ?? '']!
  return Math.floor(Number.parseFloat(text.trim()) * scale)
}

type Env = Record<string, string | undefined>

/** Read the schema's properties from env, coerce them, apply defaults, validate (errors name the variable). */
export function readRawConfig(env: Env): RawConfig {
  const raw: Record<string, unknown> = {}
  for (const [key, schema] of Object.entries(ConfigSchema.properties) as Array<[string, TSchema]>) {
    const name = schema.env as string
    const text = env[name]
    if (text === undefined || text === '') continue
    if (key === 'production') raw[key] = text === 'production'
    else if (schema.type === 'boolean') {
      if (!/^(true|false|1|0)$/i.test(text.trim()))
        throw new ConfigError(`${name} must be true or false, got "${text}"`)
      raw[key] = /^(true|1)$/i.test(text.trim())
    } else if (schema.type === 'integer') {
      if (!/^-?[0-9]+$/.test(text.trim())) throw new ConfigError(`${name} must be an integer, got "${text}"`)
      raw[key] = Number(text)
    } else raw[key] = text
  }
  const withDefaults = Value.Default(ConfigSchema, raw) as RawConfig
  const first = Value.Errors(ConfigSchema, withDefaults).First()
  if (first) {
    const key = first.path.replace(/^\//, '')
    const schema = (ConfigSchema.properties as Record<string, TSchema>)[key]
    throw new ConfigError(`${schema?.env ?? key}: ${first.message} (got ${JSON.stringify(first.value)})`)
  }
  return withDefaults
}

/**
 * Resolve the configuration. In development, missing API credentials are generated once and kept in
 * `<dataDir>/credentials.json`; in production (NODE_ENV=production) they are required.
 */
export async function loadConfig(env: Env = process.env): Promise<Config> {
  const raw = readRawConfig(env)
  if (raw.production && (!raw.apiKey || !raw.apiSecret)) {
    throw new ConfigError(
      'HEADSHOT_API_KEY and HEADSHOT_API_SECRET are required when NODE_ENV=production (no default secrets)',
    )
  }
  const dataDir = resolve(raw.dataDir)
  // The data directory holds the credentials, the database and every picture: this user only.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })

  let apiKey = raw.apiKey
  let apiSecret = raw.apiSecret
  let generatedCredentials = false
  if (!apiKey || !apiSecret) {
    const stored = await readOrCreateCredentials(join(dataDir, 'credentials.json'))
    apiKey ??= stored.apiKey
    apiSecret ??= stored.apiSecret
    generatedCredentials = stored.created
  }

  const warnings: string[] = []
  if (raw.production && apiSecret.length < 16) {
    // Signatures are only as strong as this secret; a short one can be found by trying.
    throw new ConfigError('HEADSHOT_API_SECRET must be at least 16 characters when NODE_ENV=production')
  }

  const restricted = raw.restrictedTypes?.trim().toLowerCase()
  const maxStoreBytes = raw.maxStoreBytes === undefined ? undefined : parseByteSize(raw.maxStoreBytes)
  if (maxStoreBytes !== undefined && maxStoreBytes < 1)
    throw new ConfigError('HEADSHOT_MAX_STORE_BYTES must be at least 1 byte (unset it for no bound)')
  const s3 = readS3Settings(raw)
  const leaseTtlMs = parseDuration(raw.leaseTtl)
  // 0 would fail every call; below this, a healthy endpoint's round trip under load could miss it.
  if (parseDuration(raw.s3Timeout) < 100) throw new ConfigError('HEADSHOT_S3_TIMEOUT must be at least 100ms')
  // Renewed every third of it: shorter, and a busy event loop or a slow round trip loses the lease.
  if (leaseTtlMs < 1000) throw new ConfigError('HEADSHOT_LEASE_TTL must be at least 1s')
  return {
    port: raw.port,
    host: raw.host,
    shutdownDelayMs: parseDuration(raw.shutdownDelay),
    shutdownTimeoutMs: parseDuration(raw.shutdownTimeout),
    logLevel: raw.logLevel as LogLevel,
    dataDir,
    databaseUrl: raw.databaseUrl === undefined ? undefined : readDatabaseUrl(raw.databaseUrl),
    cloudName: raw.cloudName,
    apiKey,
    apiSecret,
    restrictedTypes:
      restricted === undefined || restricted === ''
        ? undefined
        : new Set(
            restricted === 'none'
              ? []
              : restricted
                  .split(',')
                  .map((t) => t.trim())
                  .filter(Boolean),
          ),
    signType: raw.signType,
    refreshTtlMs: parseDuration(raw.refreshTtl),
    negativeTtlMs: parseDuration(raw.negativeTtl),
    sweepCallsPerMinute: raw.sweepRate,
    placeholdersDir: resolve(raw.placeholdersDir ?? join(dataDir, 'placeholders')),
    pluginsDir: resolve(raw.pluginsDir ?? join(dataDir, 'plugins')),
    transformationsFile: raw.transformationsFile ? resolve(raw.transformationsFile) : undefined,
    strictTransformations: raw.strictTransformations,
    allowedTransformations: raw.allowedTransformations
      .split('|')
      .map((t) => t.trim())
      .filter(Boolean),
    workBudgets: {
      signed: { name: 'signed', maxWork: raw.maxWork, maxSteps: MAX_COMPONENTS, maxUpscale: Number.POSITIVE_INFINITY },
      unsigned: {
        name: 'unsigned',
        maxWork: raw.maxWorkUnsigned,
        maxSteps: raw.maxStepsUnsigned,
        maxUpscale: raw.maxUpscaleUnsigned === 0 ? Number.POSITIVE_INFINITY : raw.maxUpscaleUnsigned,
      },
    },
    deriveTimeoutMs: parseDuration(raw.deriveTimeout),
    workers: raw.workers === 0 ? undefined : raw.workers,
    workerMemoryBytes: raw.workerMemoryMb === 0 ? undefined : raw.workerMemoryMb * 1024 * 1024,
    workerRecycleBytes:
      raw.workerRecycleMb === 'auto'
        ? undefined
        : raw.workerRecycleMb === 'off'
          ? Number.POSITIVE_INFINITY
          : Number(raw.workerRecycleMb) * 1024 * 1024,
    cacheBytes: raw.cacheMb * 1_000_000,
    fetchMaxBytes: raw.fetchMaxBytes,
    fetchMaxPixels: raw.fetchMaxPixels,
    fetchTimeoutMs: parseDuration(raw.fetchTimeout),
    leaseTtlMs,
    purgeUrl: raw.purgeUrl,
    maxStoreBytes,
    adminRateLimit: raw.adminRateLimit,
    clientRatePerMinute: raw.clientRate,
    clientBurst: raw.clientBurst,
    trustedProxies: readTrustedProxies(raw.trustedProxies),
    publicUrl: raw.publicUrl === undefined ? undefined : readPublicUrl(raw.publicUrl),
    s3,
    s3RedirectBytes: readS3Redirect(raw, s3),
    production: raw.production,
    generatedCredentials,
    warnings,
  }
}

const S3_REQUIRED = {
  s3Endpoint: 'HEADSHOT_S3_ENDPOINT',
  s3Bucket: 'HEADSHOT_S3_BUCKET',
  s3Region: 'HEADSHOT_S3_REGION',
  s3AccessKeyId: 'HEADSHOT_S3_ACCESS_KEY_ID',
  s3SecretAccessKey: 'HEADSHOT_S3_SECRET_ACCESS_KEY',
} as const

/** All five S3 settings, or none (then HEADSHOT_S3_PREFIX must not be set either); anything between is refused. */
function readS3Settings(raw: RawConfig): S3Settings | undefined {
  const keys = Object.keys(S3_REQUIRED) as Array<keyof typeof S3_REQUIRED>
  const missing = keys.filter((key) => raw[key] === undefined).map((key) => S3_REQUIRED[key])
  if (missing.length === keys.length) {
    if (raw.s3Prefix !== undefined)
      throw new ConfigError(
        'HEADSHOT_S3_PREFIX is set but HEADSHOT_S3_ENDPOINT is not (S3 storage needs all five settings)',
      )
    return undefined
  }
  if (missing.length > 0)
    throw new ConfigError(`S3 storage needs ${missing.join(', ')} too (or unset every HEADSHOT_S3_* to store on disk)`)
  return {
    endpoint: raw.s3Endpoint!,
    bucket: raw.s3Bucket!,
    region: raw.s3Region!,
    accessKeyId: raw.s3AccessKeyId!,
    secretAccessKey: raw.s3SecretAccessKey!,
    prefix: raw.s3Prefix ?? '',
    timeoutMs: parseDuration(raw.s3Timeout),
    ...(raw.s3PublicEndpoint === undefined ? {} : { publicEndpoint: raw.s3PublicEndpoint }),
  }
}

/** HEADSHOT_S3_REDIRECT_BYTES in bytes; it and HEADSHOT_S3_PUBLIC_ENDPOINT only mean something with S3. */
function readS3Redirect(raw: RawConfig, s3: S3Settings | undefined): number | undefined {
  if (raw.s3RedirectBytes === undefined) {
    if (raw.s3PublicEndpoint !== undefined)
      throw new ConfigError(
        'HEADSHOT_S3_PUBLIC_ENDPOINT is set but HEADSHOT_S3_REDIRECT_BYTES is not (it is only used by redirects)',
      )
    return undefined
  }
  if (!s3) throw new ConfigError('HEADSHOT_S3_REDIRECT_BYTES needs S3 storage (HEADSHOT_S3_ENDPOINT and the rest)')
  const bytes = parseByteSize(raw.s3RedirectBytes)
  // 0 would redirect every original, even the tiny ones a redirect makes slower.
  if (bytes < 1) throw new ConfigError('HEADSHOT_S3_REDIRECT_BYTES must be at least 1 byte (unset it for no redirects)')
  return bytes
}

function readTrustedProxies(text: string): Cidr[] {
  try {
    return parseCidrList(text)
  } catch (error) {
    throw new ConfigError(`HEADSHOT_TRUSTED_PROXIES: ${(error as Error).message}`)
  }
}

/** An origin with an optional path prefix; nothing a URL could smuggle after it (query, fragment, credentials). */
function readPublicUrl(text: string): { host: string; pathPrefix: string } {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new ConfigError(`HEADSHOT_PUBLIC_URL: not a URL: "${text}"`)
  }
  if (url.username || url.password || url.search || url.hash || text.includes('?') || text.includes('#')) {
    throw new ConfigError(`HEADSHOT_PUBLIC_URL: only scheme, host, port and a path prefix are allowed: "${text}"`)
  }
  return { host: url.host, pathPrefix: url.pathname.replace(/\/+$/, '') }
}

const StoredCredentials = Type.Object({
  apiKey: Type.String({ minLength: 1 }),
  apiSecret: Type.String({ minLength: 16 }),
})

async function readOrCreateCredentials(path: string): Promise<{ apiKey: string; apiSecret: string; created: boolean }> {
  if (existsSync(path)) {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'))
    if (!Value.Check(StoredCredentials, parsed)) throw new ConfigError(`${path} is not a valid credentials file`)
    return { ...parsed, created: false }
  }
  const credentials = {
    apiKey: String(100_000_000_000_000 + (randomBytes(6).readUIntBE(0, 6) % 900_000_000_000_000)),
    apiSecret: randomBytes(24).toString('base64url'),
  }
  await writeFileAtomic(path, new TextEncoder().encode(`${JSON.stringify(credentials, null, 2)}\n`), { mode: 0o600 })
  return { ...credentials, created: true }
}

/**
 * HEADSHOT_DATABASE_URL: a PostgreSQL URL, or refused naming the variable. The value is never
 * repeated in the message: it holds a password.
 */
function readDatabaseUrl(text: string): string {
  const url = text.trim()
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    throw new ConfigError(
      'HEADSHOT_DATABASE_URL must be a postgres:// or postgresql:// URL (unset it for SQLite in the data directory)',
    )
  }
  try {
    new URL(url)
  } catch {
    throw new ConfigError(
      'HEADSHOT_DATABASE_URL is not a valid URL (special characters in the password must be %-encoded)',
    )
  }
  return url
}

/** The password of a database URL, as the server receives it (for the logger's secrets); '' without one. */
export function databasePassword(url: string | undefined): string {
  if (url === undefined) return ''
  try {
    return decodeURIComponent(new URL(url).password)
  } catch {
    return ''
  }
}

/** Markdown table of the variables, from the schema (kept in docs/operations.md, checked by a test). */
export function configTable(): string {
  const shown = (schema: TSchema): string => {
    if (schema.env === 'NODE_ENV') return 'unset (development)'
    return schema.default === undefined || schema.default === '' ? 'none' : `\`${schema.default}\``
  }
  // A `|` inside a cell would split the Markdown table.
  const cell = (text: string) => text.replaceAll('|', '\\|')
  const rows = Object.values(ConfigSchema.properties as Record<string, TSchema>).map(
    (s) => `| \`${s.env}\` | ${shown(s)} | ${cell(s.description ?? '')} |`,
  )
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n')
}
