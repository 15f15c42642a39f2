/**
 * An in-memory ManageService for the console's unit tests: enough behaviour to tell whether the
 * console passes the right arguments through and presents the answers, none of the real I/O.
 * Calls are recorded in `calls`. Restricted types get a recognisable fake signature segment.
 */
import type { Rect } from '../../src/image/types.ts'
import { HttpError } from '../../src/lib/http-error.ts'
import type { DeleteOutcome, DeliveryPathOptions, ManageService, RefreshOutcome } from '../../src/manage/types.ts'
import { invalidCursor } from '../../src/store/cursor.ts'
import type { Derivative, ListOptions, ListPage, Picture, PictureCount } from '../../src/store/types.ts'

export const FAKE_SIGNATURE = 's--FAKESIG0--'
const WEEK = 7 * 24 * 3_600_000

/** A held picture unless overrides say otherwise (a status other than ok must also blank the original). */
export function fakePicture(type: string, publicId: string, overrides: Record<string, unknown> = {}): Picture {
  return <Picture>{
    type,
    publicId,
    version: 1_700_000_000,
    status: 'ok',
    upstreamUrl: `https://upstream.example/${publicId}.jpg`,
    changeKey: 'upstream-change-key',
    etag: null,
    lastModified: null,
    contentHash: 'ab'.repeat(32),
    format: 'jpg',
    width: 400,
    height: 300,
    bytes: 12_345,
    faces: null,
    createdAt: 1_700_000_000_000,
    fetchedAt: 1_700_000_000_000,
    checkedAt: 1_700_000_000_000,
    ...overrides,
  }
}

export function fakeDerivative(picture: Picture, key: string, overrides: Partial<Derivative> = {}): Derivative {
  const format = key.slice(key.lastIndexOf('/') + 1) as Derivative['format']
  return {
    type: picture.type,
    publicId: picture.publicId,
    version: picture.version,
    key,
    format,
    contentHash: 'cd'.repeat(32),
    bytes: 2100,
    width: 80,
    height: 120,
    createdAt: 5000,
    lastServedAt: 6000,
    eager: false,
    ...overrides,
  }
}

export class FakeManage implements ManageService {
  readonly pictures = new Map<string, Picture>()
  readonly stored = new Map<string, Derivative[]>()
  readonly calls: string[] = []
  /** Faces "detected" by withFaces for pictures that have none recorded. */
  detectedFaces: Rect[] = [{ x: 100, y: 50, w: 80, h: 100 }]

  constructor(
    private readonly networks: string[] = ['facebook', 'gravatar', 'twitter'],
    private readonly restrictedTypes: Set<string> = new Set(['facebook', 'twitter']),
  ) {}

  add(picture: Picture, derivatives: Derivative[] = []): Picture {
    this.pictures.set(`${picture.type}/${picture.publicId}`, picture)
    this.stored.set(`${picture.type}/${picture.publicId}`, derivatives)
    return picture
  }

  types(): string[] {
    return [...this.networks]
  }

  restricted(type: string): boolean {
    return this.restrictedTypes.has(type)
  }

  async list(options: ListOptions): Promise<ListPage> {
    this.calls.push(`list ${JSON.stringify(options)}`)
    const column = options.sortBy === 'checked_at' ? 'checkedAt' : 'createdAt'
    const sign = options.direction === 'asc' ? 1 : -1
    const rows = [...this.pictures.values()]
      .filter((p) => options.type === undefined || p.type === options.type)
      .filter((p) => options.prefix === undefined || p.publicId.startsWith(options.prefix))
      .sort(
        (a, b) =>
          sign * (a[column] - b[column] || a.type.localeCompare(b.type) || a.publicId.localeCompare(b.publicId)),
      )
    let start = 0
    if (options.cursor !== undefined) {
      if (!/^at-[0-9]+$/.test(options.cursor)) throw invalidCursor('malformed')
      start = Number(options.cursor.slice(3))
    }
    const page = rows.slice(start, start + options.maxResults)
    const next = start + page.length
    return { pictures: page, nextCursor: next < rows.length ? `at-${next}` : undefined }
  }

  async counts(): Promise<PictureCount[]> {
    const counts = new Map<string, PictureCount>()
    for (const { type, status } of this.pictures.values()) {
      const key = `${type}/${status}`
      const entry = counts.get(key) ?? { type, status, count: 0 }
      entry.count++
      counts.set(key, entry)
    }
    return [...counts.values()]
  }

  async get(type: string, publicId: string): Promise<Picture | undefined> {
    if (!this.networks.includes(type)) throw new HttpError(400, `Invalid delivery type ${type}`)
    return this.pictures.get(`${type}/${publicId}`)
  }

  async derivatives(picture: Picture): Promise<Derivative[]> {
    return this.stored.get(`${picture.type}/${picture.publicId}`) ?? []
  }

  async withFaces(picture: Picture): Promise<Picture> {
    this.calls.push(`withFaces ${picture.type}/${picture.publicId}`)
    const updated = <Picture>{ ...picture, faces: picture.faces ?? this.detectedFaces }
    this.pictures.set(`${picture.type}/${picture.publicId}`, updated)
    return updated
  }

  async refresh(type: string, publicId: string): Promise<RefreshOutcome> {
    this.calls.push(`refresh ${type}/${publicId}`)
    const picture = await this.get(type, publicId)
    if (!picture) throw new HttpError(404, `Resource not found - ${publicId}`)
    const invalidated = (this.stored.get(`${type}/${publicId}`) ?? []).length
    const refreshed = { ...picture, version: picture.version + 60, faces: null, checkedAt: picture.checkedAt + 1000 }
    this.add(refreshed)
    return { picture: refreshed, changed: true, invalidated }
  }

  async invalidate(type: string, publicId: string): Promise<number> {
    this.calls.push(`invalidate ${type}/${publicId}`)
    if (!(await this.get(type, publicId))) throw new HttpError(404, `Resource not found - ${publicId}`)
    const dropped = (this.stored.get(`${type}/${publicId}`) ?? []).length
    this.stored.set(`${type}/${publicId}`, [])
    return dropped
  }

  async eager(): Promise<never> {
    throw new Error('not used by the console')
  }

  async delete(type: string, publicIds: string[]): Promise<Record<string, DeleteOutcome>> {
    this.calls.push(`delete ${type}/${publicIds.join(',')}`)
    const outcome: Record<string, DeleteOutcome> = {}
    for (const id of publicIds) outcome[id] = this.pictures.delete(`${type}/${id}`) ? 'deleted' : 'not_found'
    return outcome
  }

  nextCheckAt(picture: Picture): number {
    return picture.checkedAt + WEEK
  }

  deliveryPath(type: string, publicId: string, options: DeliveryPathOptions = {}): string {
    const transformation = options.transformation ?? ''
    if (/(^|,)w_(?![0-9])/.test(transformation)) {
      throw new HttpError(400, `Invalid width in transformation: ${/w_([^,/]*)/.exec(transformation)![1]}`)
    }
    const format = options.format ?? this.pictures.get(`${type}/${publicId}`)?.format ?? 'jpg'
    const parts = [
      this.restricted(type) || options.sign ? FAKE_SIGNATURE : undefined,
      transformation || undefined,
      options.version === undefined ? undefined : `v${options.version}`,
      `${publicId}.${format}`,
    ]
    return `/image/${type}/${parts.filter((part) => part !== undefined).join('/')}`
  }
}
