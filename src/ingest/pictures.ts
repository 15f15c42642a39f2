/**
 * Getting an original into the store: ask the network's plugin where the picture is, download it
 * through the SSRF-safe client, keep the bytes (content-addressed) and the metadata.
 * One upstream fetch per (type, id) at a time, however many requests are waiting for it.
 */
import type { FetchedImage } from '../fetch/types.ts'
import { FetchError } from '../fetch/types.ts'
import { probeImage } from '../image/probe.ts'
import { SingleFlight } from '../lib/single-flight.ts'
import type { LoadedPlugin } from '../plugins/registry.ts'
import type { Resolution } from '../plugins/types.ts'
import type { BlobStore, Picture, Repository } from '../store/types.ts'

export interface PictureSourceOptions {
  repo: Repository
  blobs: BlobStore
  /** How long a "no picture"/"not found" answer is trusted before asking the network again. */
  negativeTtlMs: number
  now?: () => number
}

export interface PictureSource {
  /** The stored picture, fetched from upstream first if we have never seen it (or a negative answer expired). */
  ensure(plugin: LoadedPlugin, id: string): Promise<Picture>
  /** Ask upstream now, store what it says (a new version when the bytes changed). */
  fetch(plugin: LoadedPlugin, id: string, previous?: Picture): Promise<Picture>
}

export function createPictureSource(options: PictureSourceOptions): PictureSource {
  const { repo, blobs, negativeTtlMs } = options
  const now = options.now ?? Date.now
  const flights = new SingleFlight<Picture>()

  async function download(plugin: LoadedPlugin, resolution: Resolution & { kind: 'image' }): Promise<FetchedImage | undefined> {
    const candidates = [resolution.url, ...(resolution.alternates ?? [])]
    for (const url of candidates) {
      try {
        return await plugin.http.getImage(url, { headers: resolution.headers })
      } catch (error) {
        // A gone original (404/410) may still exist at an alternate size; anything else is a real failure.
        if (error instanceof FetchError && error.code === 'http_status' && (error.status === 404 || error.status === 410)) continue
        throw error
      }
    }
    return undefined
  }

  async function fetchAndStore(plugin: LoadedPlugin, id: string, previous: Picture | undefined): Promise<Picture> {
    const resolution = await plugin.resolve(id)
    const at = now()
    const base: Picture = previous ?? {
      type: plugin.type,
      publicId: id,
      version: Math.floor(at / 1000),
      status: 'not_found',
      upstreamUrl: null,
      changeKey: null,
      etag: null,
      lastModified: null,
      contentHash: null,
      format: null,
      width: null,
      height: null,
      bytes: null,
      faces: null,
      createdAt: at,
      fetchedAt: at,
      checkedAt: at,
    }

    let image: FetchedImage | undefined
    let changeKey: string | undefined
    if (resolution.kind === 'image') {
      image = await download(plugin, resolution)
      changeKey = resolution.changeKey
    } else if (resolution.kind === 'fetched') {
      image = resolution.image
      changeKey = resolution.changeKey
    }

    if (!image) {
      const status = resolution.kind === 'not_found' ? 'not_found' : 'none'
      const picture: Picture = { ...base, status, checkedAt: at }
      await repo.putPicture(picture)
      return picture
    }

    // Store the size as people see it: EXIF orientations 5–8 swap width and height.
    const turned = (probeImage(image.bytes)?.orientation ?? 1) >= 5
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
      width: turned ? image.height : image.width,
      height: turned ? image.width : image.height,
      bytes: image.bytes.byteLength,
      faces: changed ? null : base.faces,
      fetchedAt: at,
      checkedAt: at,
    }
    await repo.putPicture(picture)
    return picture
  }

  const source: PictureSource = {
    async ensure(plugin, id) {
      const stored = await repo.getPicture(plugin.type, id)
      if (stored?.status === 'ok') return stored
      if (stored && now() - stored.checkedAt < negativeTtlMs) return stored
      return source.fetch(plugin, id, stored)
    },
    fetch(plugin, id, previous) {
      return flights.run(`${plugin.type}\u0000${id}`, () => fetchAndStore(plugin, id, previous))
    },
  }
  return source
}
