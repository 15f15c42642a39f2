/**
 * One instance on PostgreSQL + S3 beside the same run on SQLite + disk: the compiled binary
 * (dist/headshot, rebuilt first) started twice side by side, (a) with the defaults (SQLite and
 * images in a temporary data directory), (b) with HEADSHOT_DATABASE_URL on a fresh database of the
 * test server and HEADSHOT_S3_* on the test bucket under a prefix of its own. Same fake Facebook
 * on loopback, same secret, same photo. The two are measured turn about (A, then B, then A…), so
 * both see the same machine load. For each:
 *   - cold: the first request of a new picture (Graph call, download, faces, derive, store), and a
 *     new size of a stored picture (derive, store);
 *   - warm store path: wrk over distinct `v<N>` spellings of one stored derived image, so the
 *     one-second hot cache never answers (two runs each, A B B A, the better kept);
 *   - warm after restart: the instance restarted (its memory caches empty), then the first request
 *     of each of ~50 stored derived images: the database and image store round trips, uncached;
 *   - RSS.
 * Without HEADSHOT_TEST_DATABASE_URL and HEADSHOT_TEST_S3_* it says so and measures SQLite + disk only.
 *
 * Run: bun run bench/scale.ts [--no-build] [--binary=path] [--seconds=N] [--pictures=N] [--sizes=N]
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { startFakeFacebook } from '../plugins/facebook/fake.ts'
import { decode, encode } from '../src/image/codecs.ts'
import { resize } from '../src/image/resize.ts'
import { facesDataDir, haveFaceData } from '../test/support/face-data.ts'
import { createTestDatabase, PG_TEST_URL, type TestDatabase } from '../test/support/postgres.ts'
import { emptyPrefix, type S3TestSettings, s3Env, s3TestCredentials, s3TestSettings } from '../test/support/s3.ts'
import { syntheticPhoto } from './photo.ts'
import {
  benchWork,
  binaryEnv,
  buildBinary,
  BINARY,
  CONNECTIONS,
  type Child,
  type LoadResult,
  mb,
  median,
  ms,
  option,
  percentile,
  rssOf,
  signedUrl,
  timedGet,
  WRK,
  WRK_THREADS,
} from './support.ts'

// --- settings --------------------------------------------------------------------------------

const WRK_SECONDS = option('seconds', 5)
/** New pictures asked for once each (cold), and new sizes of one stored picture. */
const PICTURES = option('pictures', 25)
const SIZES = option('sizes', 25)
const SECRET = 'scale-bench-secret-0123456789'

const { work, startServer, load } = benchWork('headshot-scale-')
/** A GET's time; throws unless it is answered 200. */
const timed = async (url: string) => (await timedGet(url)).ms

// --- the two setups ----------------------------------------------------------------------------

buildBinary()

const ENGINES = Boolean(PG_TEST_URL && s3TestCredentials())
if (!ENGINES) {
  console.log(
    'bench/scale.ts: HEADSHOT_TEST_DATABASE_URL and HEADSHOT_TEST_S3_* are not both set: measuring SQLite + disk ' +
      'only (the PostgreSQL + S3 column stays empty; see CONTRIBUTING.md to start the engines)',
  )
}

/** A 400² JPEG: the face photograph scaled down when the face data is there, else a synthetic photo. */
async function photo(): Promise<{ label: string; bytes: Uint8Array }> {
  const face = join(facesDataDir(), 'faces', 'london_001.jpg')
  if (haveFaceData('faces') && existsSync(face)) {
    const big = await decode(new Uint8Array(readFileSync(face)), 'jpg')
    return {
      label: 'face photograph faces/london_001.jpg scaled to 400², JPEG q88',
      bytes: await encode(resize(big, 400, 400), 'jpg', { quality: 88 }),
    }
  }
  return {
    label: 'synthetic photo-like 400² JPEG q88 (face data not found)',
    bytes: await encode(syntheticPhoto(400), 'jpg', { quality: 88 }),
  }
}

const picture = await photo()
const facebook = startFakeFacebook()
const storedId = '400'
facebook.addPhoto(storedId, picture.bytes)
const coldIds = Array.from({ length: PICTURES }, (_, i) => String(70_000 + i))
for (const id of [...coldIds, '69999']) facebook.addPhoto(id, picture.bytes)

interface Setup {
  name: string
  env: Record<string, string>
  cleanup: () => Promise<void>
  process?: Child
  base?: string
}

const baseEnv = (dataDir: string) => binaryEnv(work, dataDir, SECRET, { HEADSHOT_LOG_LEVEL: 'warn', ...facebook.env })

const setups: Setup[] = [
  { name: 'SQLite + disk', env: baseEnv(mkdtempSync(join(work, 'sqlite-'))), cleanup: async () => {} },
]
let database: TestDatabase | undefined
let bucket: S3TestSettings | undefined
if (ENGINES) {
  database = await createTestDatabase()
  const created = database
  bucket = await s3TestSettings('bench-scale').catch(async (error: unknown) => {
    await created.drop()
    throw error
  })
  const settings = bucket
  const db = database
  setups.push({
    name: 'PostgreSQL + S3',
    env: { ...baseEnv(mkdtempSync(join(work, 'pg-'))), HEADSHOT_DATABASE_URL: db.url, ...s3Env(settings) },
    cleanup: async () => {
      await emptyPrefix(settings)
      await db.drop()
    },
  })
}

/** Starts (or restarts) a setup's binary; milliseconds from spawn to the first 200 of /readyz. */
async function start(setup: Setup): Promise<number> {
  const running = await startServer([BINARY], setup.env, '/readyz', { pollMs: 5, timeoutMs: 30_000 })
  setup.process = running.process
  setup.base = running.base
  return running.readyMs
}

async function stop(setup: Setup): Promise<void> {
  setup.process?.kill('SIGTERM')
  await setup.process?.exited
  setup.process = undefined
}

const url = (setup: Setup, path: string) => signedUrl(setup.base!, path, SECRET)

/** Runs `measure` on every setup in turn for each item, so the setups share the machine's moments. */
async function alternate(items: string[], measure: (setup: Setup, item: string) => Promise<number>) {
  const times = setups.map(() => [] as number[])
  for (const item of items) {
    for (const [i, setup] of setups.entries()) times[i]!.push(await measure(setup, item))
  }
  return times
}

// --- the run -----------------------------------------------------------------------------------

interface Row {
  figure: string
  values: string[]
  /** PostgreSQL + S3 over SQLite + disk, when both ran. */
  ratio?: number
}
const rows: Row[] = []
const row = (figure: string, numbers: number[], show: (n: number) => string) => {
  const ratio = numbers.length > 1 ? numbers[1]! / numbers[0]! : undefined
  rows.push({ figure, values: numbers.map(show), ratio })
  console.error(`  ${figure}: ${numbers.map(show).join(' | ')}${ratio ? ` | ×${ratio.toFixed(2)}` : ''}`)
}

try {
  const firstStarts = []
  for (const setup of setups) firstStarts.push(await start(setup))
  row('start to ready, empty store (migrations included)', firstStarts, ms)

  // Cold: a new picture (upstream, faces, derive, store). One warm-up picture each, not counted.
  console.error('cold: new pictures…')
  await alternate(['69999'], (setup, id) => timed(url(setup, `/image/facebook/c_fill,g_face,h_300,w_240/${id}.jpg`)))
  const firsts = await alternate(coldIds, (setup, id) =>
    timed(url(setup, `/image/facebook/c_fill,g_face,h_300,w_240/${id}.jpg`)),
  )
  row(
    `cold: first request of a new 400² picture (c_fill,g_face 240×300; median of ${PICTURES})`,
    firsts.map(median),
    ms,
  )

  // Cold: new sizes of a stored picture (derive, store).
  console.error('cold: new sizes…')
  await alternate([storedId], (setup) => timed(url(setup, `/image/facebook/c_fill,g_face,h_125,w_100/${storedId}.jpg`)))
  const sizePaths = Array.from({ length: SIZES }, (_, i) => {
    const w = 124 + 4 * i
    return `/image/facebook/c_fill,g_face,h_${Math.round(w * 1.25)},w_${w}/${storedId}.jpg`
  })
  const sizes = await alternate(sizePaths, (setup, path) => timed(url(setup, path)))
  row(`cold: new size of a stored 400² picture (derive + store; median of ${SIZES})`, sizes.map(median), ms)

  // Warm store path: a stored derived image, every request a new v<N> spelling. Two runs each, in
  // A B B A order, the better one kept: the cores are shared, so a run can lose to a neighbour.
  console.error('warm: store path under wrk…')
  const warmPath = '/image/facebook/c_fill,h_120,w_80/v1/400.jpg'
  const loads: LoadResult[] = []
  const order = [...setups.keys(), ...[...setups.keys()].reverse()]
  for (const [round, i] of order.entries()) {
    const setup = setups[i]!
    const signed = new URL(url(setup, warmPath)).pathname
    const [prefix, suffix] = signed.split('/v1/') as [string, string]
    if (round < setups.length) {
      await timed(url(setup, warmPath))
      await load(setup.base!, 1, { prefix: `${prefix}/v`, suffix: `/${suffix}` }) // warm-up
    }
    const result = await load(setup.base!, WRK_SECONDS, { prefix: `${prefix}/v`, suffix: `/${suffix}` })
    if (!loads[i] || result.rps > loads[i]!.rps)
      loads[i] = { ...result, errors: result.errors + (loads[i]?.errors ?? 0) }
    else loads[i]!.errors += result.errors
  }
  const errors = loads.reduce((sum, l) => sum + l.errors, 0)
  row(
    `warm store path: req/s (wrk ${WRK_THREADS} threads, ${CONNECTIONS} connections, ${WRK_SECONDS} s, distinct v<N>; better of 2)`,
    loads.map((l) => l.rps),
    (n) => `${(n / 1000).toFixed(1)}k`,
  )
  row(
    'warm store path: p99 of that run',
    loads.map((l) => l.p99),
    ms,
  )
  const loaded = setups.map((setup) => rssOf(setup.process!.pid))
  row(
    'RSS after the cold and warm runs',
    loaded.map((r) => r.rss),
    mb,
  )
  row(
    'peak RSS (VmHWM) of the first process',
    loaded.map((r) => r.peak),
    mb,
  )

  // Warm after restart: memory caches empty; the first request of each stored derived image.
  console.error('warm after restart…')
  const restarts = []
  for (const setup of setups) {
    await stop(setup)
    restarts.push(await start(setup))
  }
  row('restart to ready (store already migrated)', restarts, ms)
  const stored = [...coldIds.map((id) => `/image/facebook/c_fill,g_face,h_300,w_240/${id}.jpg`), ...sizePaths]
  const reads = await alternate(stored, (setup, path) => timed(url(setup, path)))
  row(
    `warm after restart: first request of a stored derived image, p50 (${stored.length} images)`,
    reads.map(median),
    ms,
  )
  row(
    `warm after restart: p99 (${stored.length} images, so about the slowest)`,
    reads.map((r) => percentile(r, 0.99)),
    ms,
  )
  row(
    'RSS at the end (restarted process)',
    setups.map((setup) => rssOf(setup.process!.pid).rss),
    mb,
  )

  // --- report ----------------------------------------------------------------------------------

  console.log(
    `\nOne instance on SQLite + disk beside one on PostgreSQL + S3 (dist/headshot over HTTP on loopback, ` +
      `${availableParallelism()} cores; wrk ${WRK ? `${WRK_THREADS} threads / ${CONNECTIONS} connections` : 'MISSING: fetch loop, not comparable'}; ` +
      `photo: ${picture.label}). Ratio: PostgreSQL + S3 over SQLite + disk (for req/s, above 1 is faster; for times, above 1 is slower).\n`,
  )
  console.log('| figure | SQLite + disk | PostgreSQL + S3 | ratio |')
  console.log('|---|---|---|---|')
  for (const r of rows) {
    console.log(`| ${r.figure} | ${r.values[0]} | ${r.values[1] ?? '—'} | ${r.ratio ? r.ratio.toFixed(2) : '—'} |`)
  }
  if (errors) console.log(`\n**${errors} non-200 answers under wrk.**`)
  if (!ENGINES) console.log('\nPostgreSQL + S3 not measured: HEADSHOT_TEST_DATABASE_URL / HEADSHOT_TEST_S3_* unset.')
} finally {
  for (const setup of setups) await stop(setup)
  await facebook.stop()
  for (const setup of setups) await setup.cleanup().catch((error) => console.error(`cleanup ${setup.name}:`, error))
}
process.exit(0)
