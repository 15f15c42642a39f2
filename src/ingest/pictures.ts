/**
 * Getting an original into the store and keeping it fresh: ask the network's plugin where the
 * picture is, download it through the SSRF-safe client, keep the bytes (content-addressed) and the
 * metadata. One upstream call per (type, id) at a time, however many requests are waiting for it.
 *
 * Refresh (docs/compatibility.md, Refresh): a picture older than the refresh TTL is served as stored while it
 * is re-checked in the background (stale-while-revalidate). Unchanged pictures cost one API call
 * (the plugin's change key or the CDN's validators say so); changed bytes get a new version, and
 * the superseded derivatives and blobs are dropped.
 *
 * Behind a CDN the origin rarely sees a request, so the background sweep (src/refresh/) also
 * re-checks held pictures through `recheck`, often with a resolution it already got from a batch lookup.
 */
import type { FetchedImage } from '../fetch/types.ts'
import { FetchError } from '../fetch/types.ts'
import { orientedSize } from '../image/transform.ts'
import { probeImage } from '../lib/image-header.ts'
import { LruCache } from '../lib/lru.ts'
import { noteTrace } from '../lib/request-trace.ts'
import { SingleFlight } from '../lib/single-flight.ts'
import { leaseName } from '../store/leases.ts'
import type { LoadedPlugin } from '../plugin-host/registry.ts'
import type { Resolution } from '../plugin-host/types.ts'
import { UpstreamError } from '../plugin-host/types.ts'
import { S3StoreError } from '../store/s3-blobs.ts'
import { inForce, NetworkPaused, pausedError } from '../refresh/pause.ts'
import { memoryPauses, type UpstreamPauses } from '../refresh/upstream-pauses.ts'
import { NO_ORIGINAL, type BlobStore, type Picture, type Repository } from '../store/types.ts'
import { localWork, type SharedWork } from './shared-work.ts'

/** How long a failure of the image store (not of the network) is answered from memory. */
export const STORE_FAILURE_MEMORY_MS = 2000

export interface PictureSourceOptions {
  repo: Repository
  blobs: BlobStore
  /** How long a stored picture is trusted before it is re-checked upstream. */
  refreshTtlMs: number
  /** How long a "no picture"/"not found" answer is trusted before asking the network again. */
  negativeTtlMs: number
  /** How long a failed fetch of a picture we do not hold is answered from memory (default 30 s). */
  failureMemoryMs?: number
  /** After a failed background re-check, wait this long before trying again (default 5 min). */
  retryDelayMs?: number
  now?: () => number
  /** Told about background re-checks that failed (the stored copy keeps being served). */
  onRefreshError?: (picture: Picture, error: unknown) => void
  /** Told when a picture changed or went away (hook for CDN purges). */
  onChange?: (before: Picture, after: Picture) => void
  /** Told after an original was stored (the store bound checks the size in the background). */
  onStored?: () => void
  /**
   * Instances sharing the database fetch each picture once between them (src/ingest/shared-work.ts);
   * default: this process alone.
   */
  shared?: SharedWork
  /**
   * Rows as the database has them now, without the row cache (which may keep a row for seconds):
   * how an instance waiting for another's fetch sees it land. Default: `repo`.
   */
  freshRows?: Pick<Repository, 'getPicture'>
  /**
   * Networks that told us to stop (rate limit, refused credentials): consulted before every upstream
   * call, and told of every refusal. Shared with the sweeper, and on PostgreSQL with every instance
   * (default: this source's own, in memory).
   */
  pauses?: UpstreamPauses
}

export interface PictureSource {
  /**
   * The stored picture, fetched from upstream first if we have never seen it (or a negative answer
   * expired). A stale picture is returned as stored and re-checked in the background.
   * `charge` is called just before this call would start an upstream fetch (not when it is answered
   * from the store or from memory, nor when it joins a fetch under way); it may throw to refuse it.
   */
  ensure(plugin: LoadedPlugin, id: string, charge?: () => void): Promise<Picture>
  /** Ask upstream now and store what it says (a new version when the bytes changed). */
  fetch(plugin: LoadedPlugin, id: string, previous?: Picture): Promise<Picture>
  /**
   * Re-check a held picture now, as `fetch` does (one upstream check per picture at a time, no
   * download for an unchanged change key, a new version for new bytes, `onChange` on a change), but
   * with `resolution` already known (e.g. from a batch lookup) the plugin is not asked again.
   * Nothing is done when the picture was deleted, let go, or re-checked since `stored` was read: the
   * row as it is now is returned. On failure the stored copy stays in service, its next check is
   * pushed back as after a failed background refresh (`postpone`), and the error is rethrown.
   */
  recheck(plugin: LoadedPlugin, stored: Picture, resolution?: Resolution): Promise<Picture>
  /**
   * After a failed check of a held picture: keep serving it and look again after the retry delay,
   * or when the upstream said we may (an UpstreamError's `retryAt`), instead of on every request.
   */
  postpone(stored: Picture, error: unknown): Promise<void>
}

type Fetched = { image: FetchedImage } | { unchanged: true } | { gone: true }

const isGone = (error: unknown) =>
  error instanceof FetchError && error.code === 'http_status' && (error.status === 404 || error.status === 410)
const isNotModified = (error: unknown) =>
  error instanceof FetchError && error.code === 'http_status' && error.status === 304

/** Has `row` been checked upstream since `previous` was read (or is it the first row at all)? */
function checkedSince(row: Picture, previous: Picture | undefined): boolean {
  return previous === undefined || row.checkedAt !== previous.checkedAt || row.version !== previous.version
}

export function createPictureSource(options: PictureSourceOptions): PictureSource {
  const { repo, blobs, refreshTtlMs, negativeTtlMs } = options
  const retryDelayMs = options.retryDelayMs ?? 300_000
  const now = options.now ?? Date.now
  const flights = new SingleFlight<Picture>()
  const shared = options.shared ?? localWork()
  const freshRows = options.freshRows ?? repo
  const pauses = options.pauses ?? memoryPauses(now)

  /** Refuse, without asking, a call to a network that told us (or another instance) to stop. */
  async function assertNotPaused(plugin: LoadedPlugin): Promise<void> {
    const pause = await pauses.get(plugin.type)
    if (pause && inForce(pause, now())) throw pausedError(plugin.type, pause)
  }

  /**
   * Every upstream call goes through here (inside its single flight, so once however many wait):
   * refused while the network is paused; a rate limit or refused credentials pauses it for everyone.
   */
  async function callUpstream(plugin: LoadedPlugin, work: () => Promise<Picture>): Promise<Picture> {
    await assertNotPaused(plugin)
    let picture: Picture
    try {
      picture = await work()
    } catch (error) {
      // Recording must not hide the network's answer (the database may be what failed).
      await pauses.record(plugin.type, error).catch(() => undefined)
      throw error
    }
    await pauses.recovered(plugin.type).catch(() => undefined)
    return picture
  }

  /** Download the resolved URL (then its alternates while they are gone), revalidating when we can. */
  async function download(
    plugin: LoadedPlugin,
    resolution: Resolution & { kind: 'image' },
    previous: Picture | undefined,
  ): Promise<Fetched> {
    const candidates = [resolution.url, ...(resolution.alternates ?? [])]
    for (const url of candidates) {
      const headers: Record<string, string> = { ...resolution.headers }
      // Validators only mean something for the very URL they came from.
      if (previous?.status === 'ok' && previous.upstreamUrl === url) {
        if (previous.etag) headers['If-None-Match'] = previous.etag
        if (previous.lastModified) headers['If-Modified-Since'] = previous.lastModified
      }
      try {
        return { image: await plugin.http.getImage(url, { headers }) }
      } catch (error) {
        if (isNotModified(error)) return { unchanged: true }
        // A gone original may still exist at an alternate size; anything else is a real failure.
        if (isGone(error)) continue
        throw error
      }
    }
    return { gone: true }
  }

  function blankPicture(plugin: LoadedPlugin, id: string, at: number): Picture {
    const version = Math.floor(at / 1000)
    return {
      type: plugin.type,
      publicId: id,
      version,
      status: 'not_found',
      ...NO_ORIGINAL,
      createdAt: at,
      fetchedAt: at,
      checkedAt: at,
    }
  }

  /** Drop the derivatives of superseded versions, and every blob nothing references any more. */
  async function dropSuperseded(before: Picture): Promise<void> {
    const hashes = await repo.deleteDerivatives(before.type, before.publicId)
    if (before.contentHash) hashes.push(before.contentHash)
    for (const hash of new Set(hashes)) {
      if (!(await repo.isBlobReferenced(hash))) await blobs.delete(hash)
    }
  }

  async function fetchAndStore(
    plugin: LoadedPlugin,
    id: string,
    previous: Picture | undefined,
    known?: Resolution,
  ): Promise<Picture> {
    const resolution = known ?? (await plugin.resolve(id))
    const at = now()
    const base = previous ?? blankPicture(plugin, id, at)
    const held = previous?.status === 'ok'

    let outcome: Fetched
    let changeKey: string | undefined
    if (resolution.kind === 'image') {
      changeKey = resolution.changeKey
      // A content-addressed change key (e.g. X's image URL) that did not move: nothing to download.
      outcome =
        held && changeKey !== undefined && changeKey === previous.changeKey
          ? { unchanged: true }
          : await download(plugin, resolution, previous)
    } else if (resolution.kind === 'fetched') {
      changeKey = resolution.changeKey
      outcome = { image: resolution.image }
    } else {
      outcome = { gone: true }
    }

    if ('unchanged' in outcome && held) {
      const picture: Picture = { ...base, checkedAt: at }
      await repo.putPicture(picture)
      return picture
    }

    if ('gone' in outcome || 'unchanged' in outcome) {
      const status = resolution.kind === 'not_found' ? 'not_found' : 'none'
      const picture: Picture = { ...base, status, ...NO_ORIGINAL, checkedAt: at }
      await repo.putPicture(picture)
      if (held) {
        await dropSuperseded(previous)
        options.onChange?.(previous, picture)
      }
      return picture
    }

    const { image } = outcome
    // Store the size as people see it (EXIF orientations 5–8 swap width and height).
    const header = probeImage(image.bytes)
    const upright = orientedSize(image, header.ok ? header.value.orientation : 1)
    const contentHash = await blobs.put(image.bytes)
    const changed = base.contentHash !== contentHash
    const picture: Picture = {
      ...base,
      status: 'ok',
      // Cloudinary versions are upload times in unix seconds; keep them strictly increasing.
      version: changed && previous ? Math.max(Math.floor(at / 1000), previous.version + 1) : base.version,
      upstreamUrl: image.url,
      changeKey: changeKey ?? null,
      etag: image.etag ?? null,
      lastModified: image.lastModified ?? null,
      contentHash,
      format: image.format,
      width: upright.width,
      height: upright.height,
      bytes: image.bytes.byteLength,
      faces: changed ? null : base.faces,
      fetchedAt: at,
      checkedAt: at,
    }
    await repo.putPicture(picture)
    if (changed) options.onStored?.()
    if (changed && held) {
      await dropSuperseded(previous)
      options.onChange?.(previous, picture)
    }
    return picture
  }

  const key = (plugin: LoadedPlugin, id: string) => `${plugin.type}\u0000${id}`

  /**
   * `work` (an upstream check of the picture) done by one instance at a time. An instance that
   * waited for another takes the row that one stored: any row checked since `previous` (the row
   * the caller started from; none: any row) answers the same question.
   */
  function checkOnce(plugin: LoadedPlugin, id: string, previous: Picture | undefined, work: () => Promise<Picture>) {
    return shared.run(leaseName('picture', plugin.type, id), {
      work,
      done: async () => {
        const row = await freshRows.getPicture(plugin.type, id)
        return row && checkedSince(row, previous) ? row : undefined
      },
    })
  }

  /** Keep serving the stored copy, and do not hammer a failing upstream: a later checkedAt makes it due again later. */
  async function postpone(stored: Picture, error: unknown): Promise<void> {
    const retryAt = error instanceof UpstreamError && error.retryAt ? error.retryAt : now() + retryDelayMs
    const checkedAt = Math.min(now(), retryAt - refreshTtlMs)
    const current = await repo.getPicture(stored.type, stored.publicId).catch(() => undefined)
    // Only the version that failed: a new one stored meanwhile was checked just now.
    if (current && current.version === stored.version) await repo.putPicture({ ...current, checkedAt }).catch(() => {})
  }

  function refreshInBackground(plugin: LoadedPlugin, id: string, stored: Picture): void {
    flights
      .run(key(plugin, id), () =>
        checkOnce(plugin, id, stored, () => callUpstream(plugin, () => fetchAndStore(plugin, id, stored))),
      )
      .catch(async (error) => {
        // The network is paused: the stored copy is served, and the next request after the pause re-checks.
        if (error instanceof NetworkPaused) return
        options.onRefreshError?.(stored, error)
        await postpone(stored, error)
      })
  }

  async function recheckNow(plugin: LoadedPlugin, stored: Picture, resolution?: Resolution): Promise<Picture> {
    const current = await repo.getPicture(stored.type, stored.publicId)
    // Deleted or let go meanwhile: not ours to bring back. Re-checked meanwhile: done already.
    if (!current) return stored
    if (current.status !== 'ok' || current.version !== stored.version || current.checkedAt !== stored.checkedAt) {
      return current
    }
    return callUpstream(plugin, () => fetchAndStore(plugin, stored.publicId, current, resolution))
  }

  // Failures of fetches for pictures we do not hold, remembered briefly (bounded: ids come from URLs).
  const failureMemoryMs = options.failureMemoryMs ?? 30_000
  const recentFailures = new LruCache<{ error: unknown; until: number }>(10_000, () => 1)

  const source: PictureSource = {
    async ensure(plugin, id, charge) {
      const stored = await repo.getPicture(plugin.type, id)
      if (stored?.status === 'ok') {
        if (now() - stored.checkedAt >= refreshTtlMs) refreshInBackground(plugin, id, stored)
        return stored
      }
      if (stored && now() - stored.checkedAt < negativeTtlMs) return stored
      // A failure we have just seen is answered again without asking the upstream: a flood of
      // requests for a picture whose network is down (or that rate-limits us) costs one call.
      const failure = recentFailures.get(key(plugin, id))
      if (failure && now() < failure.until) throw failure.error
      // A paused network is not asked (nor is the client charged): answered as its refusal would be.
      await assertNotPaused(plugin)
      // New work: whoever starts it pays (a refusal is not a failure of the picture, so it is not remembered).
      if (!flights.has(key(plugin, id))) charge?.()
      try {
        return await source.fetch(plugin, id, stored)
      } catch (error) {
        // The image store failing (S3 timing out, say) is not the picture's failure: remembered only
        // briefly, so the picture serves soon after the store answers again, while a flood during
        // the outage still costs the network one call per picture every few seconds.
        const memory =
          error instanceof S3StoreError ? Math.min(STORE_FAILURE_MEMORY_MS, failureMemoryMs) : failureMemoryMs
        const retryAt = error instanceof UpstreamError && error.retryAt ? error.retryAt : now() + memory
        recentFailures.set(key(plugin, id), { error, until: Math.min(retryAt, now() + 15 * 60_000) })
        throw error
      }
    },
    fetch(plugin, id, previous) {
      // Leader or joiner of the fetch, this request waits for the network.
      noteTrace({ fetched: true })
      return flights.run(key(plugin, id), () =>
        checkOnce(plugin, id, previous, () => callUpstream(plugin, () => fetchAndStore(plugin, id, previous))),
      )
    },
    async recheck(plugin, stored, resolution) {
      try {
        return await flights.run(key(plugin, stored.publicId), () =>
          checkOnce(plugin, stored.publicId, stored, () => recheckNow(plugin, stored, resolution)),
        )
      } catch (error) {
        await postpone(stored, error)
        throw error
      }
    },
    postpone,
  }
  return source
}
