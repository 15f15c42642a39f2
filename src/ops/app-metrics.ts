/**
 * The app's own /metrics series: names, help texts and kinds in one place (docs/operations.md
 * lists them). `src/app.ts` declares them at start and feeds them as things happen.
 */
import type { Metrics } from '../metrics.ts'
import { CACHE_RESULTS, DELIVERY_OUTCOMES } from './delivery-outcome.ts'

/** Every series the app counts, declared at start so /metrics shows it (at 0) from the first scrape. */
export const SERIES = {
  absentForgotten: ['absent_forgotten_total', 'Remembered "no picture" answers deleted after the negative TTL'],
  refreshErrors: ['refresh_errors_total', 'Background re-checks that failed (the stored copy is still served)'],
  picturesChanged: ['pictures_changed_total', 'Pictures whose upstream changed or went away on re-check'],
  purgeRequests: ['purge_requests_total', 'CDN purge hook calls by outcome'],
  faceDetections: ['face_detections_total', 'Originals scanned for faces'],
  derives: ['derives_total', 'Transformations computed (cache misses)'],
  deliveryResponses: ['delivery_responses_total', 'Delivery responses by status'],
  clientLimited: ['client_limited_total', "Delivery requests refused (429) for their client's allowance of new work"],
  deliveryCache: [
    'delivery_cache_total',
    'Delivery answers by cache result: hot (memory), stored, miss (derived or fetched)',
  ],
  upstreamRequests: [
    'upstream_requests_total',
    'Requests to networks (API calls and downloads) by network and outcome',
  ],
  storeBytes: ['store_bytes', 'Bytes of the stored images that rows name (a shared blob once)', 'gauge'],
  storeEvictions: ['store_evictions_total', 'Stored images deleted to stay under HEADSHOT_MAX_STORE_BYTES, by kind'],
  leaseWaits: [
    'lease_waits_total',
    'Picture fetches and derivations another instance was doing: this one waited for its result (PostgreSQL)',
  ],
  leaseTakeovers: [
    'lease_takeovers_total',
    'Work another instance left unfinished (it failed, or died and its lease ran out) taken over by this one',
  ],
} as const

/** Histograms of durations (seconds), declared at start with every label value known then. */
export const DURATIONS = {
  delivery: ['delivery_duration_seconds', 'Time to produce a delivery answer, by outcome'],
  upstream: [
    'upstream_request_duration_seconds',
    'Time of one request to a network (API call or download), by network',
  ],
  derive: ['derive_duration_seconds', 'Time to make a derived image, including the wait for a free worker'],
} as const

/** Counters the worker pool keeps, read at each scrape (0 when transformations run inline). */
export const COUNTED_BY_THE_POOL = {
  workerRecycles: [
    'worker_recycles_total',
    'Transformation workers replaced after a job because their WebAssembly memory had grown',
  ],
} as const

/** Read at each scrape. */
export const GAUGES = {
  workersBusy: ['workers_busy', 'Transformation workers running a job'],
  workersQueued: ['workers_queued', 'Transformation jobs waiting for a free worker'],
  workersWasm: ['workers_wasm_bytes', 'WebAssembly memory the transformation workers hold, as of their last job'],
  inFlight: ['requests_in_flight', 'HTTP requests being served'],
  sweepLeader: [
    'sweep_leader',
    'Whether this instance runs the background sweep (1); 0: it is off, or another instance on the database leads',
  ],
} as const

/**
 * Declare the counters and the histograms whose labels are known at start, so /metrics shows
 * them (at 0) from the first scrape.
 */
export function declareAppMetrics(metrics: Metrics): void {
  for (const [name, help, kind] of Object.values(SERIES) as ReadonlyArray<readonly [string, string, 'gauge'?]>)
    metrics.declare(name, help, kind)
  for (const result of CACHE_RESULTS) metrics.inc(...SERIES.deliveryCache, { result }, 0)
  metrics.histogram(...DURATIONS.delivery, { labels: DELIVERY_OUTCOMES.map((outcome) => ({ outcome })) })
  metrics.histogram(...DURATIONS.derive)
}
