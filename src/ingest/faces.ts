/**
 * Face detection runs once per stored original (lazily, the first time a face-aware transformation
 * or the Admin API asks) and is persisted with the picture; a new version starts with `faces: null`.
 */
import type { Rect } from '../image/types.ts'
import { SingleFlight } from '../lib/single-flight.ts'
import type { BlobStore, Picture, Repository } from '../store/types.ts'
import type { ImageFormat } from '../url/types.ts'

/** `signal`: nobody waits for the boxes any more (a queued detection is then called off). */
export type DetectFaces = (
  bytes: Uint8Array,
  format: ImageFormat,
  options?: { signal?: AbortSignal },
) => Promise<Rect[]>

export function createFaceRecorder(options: { repo: Repository; blobs: BlobStore; detect: DetectFaces }) {
  const flights = new SingleFlight<Picture>()
  /** `signal`: this caller's client went away (the detection stops only if nobody else waits for it). */
  return function ensureFaces(picture: Picture, signal?: AbortSignal): Promise<Picture> {
    if (picture.status !== 'ok' || picture.faces !== null) return Promise.resolve(picture)
    const held = picture
    const key = `${picture.type}\u0000${picture.publicId}\u0000${picture.version}`
    return flights.run(
      key,
      async (wanted) => {
        const bytes = await options.blobs.get(held.contentHash)
        if (!bytes) return picture
        const faces = await options.detect(bytes, held.format, { signal: wanted })
        // Only record the boxes against the version they were found in (a refresh may have raced us).
        const current = await options.repo.getPicture(picture.type, picture.publicId)
        if (current && current.version === picture.version && current.contentHash === picture.contentHash) {
          await options.repo.putPicture({ ...current, faces })
        }
        return { ...picture, faces }
      },
      signal,
    )
  }
}
