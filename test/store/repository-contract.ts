/**
 * The repository contract: one suite every metadata backend must pass (test/store/repository.test.ts
 * runs it against SQLite and PostgreSQL). Backend-specific behaviour (files, WAL, migrations, the
 * advisory lock) is tested beside each backend.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { type Derivative, type ListOptions, NO_ORIGINAL, type Picture, type Repository } from '../../src/store/types.ts'
import { derivative, HASH_A, HASH_B, HASH_C, picture } from '../support/store-fixtures.ts'

export interface Engine {
  /** Shown in every test name: `SQLite`, `PostgreSQL`. */
  name: string
  /** A repository over an empty store; each test closes its own. */
  open(): Promise<Repository>
}

export function repositoryContract(engine: Engine): void {
  describe(`${engine.name} repository: pictures`, () => {
    let repo: Repository
    beforeEach(async () => {
      repo = await engine.open()
    })
    afterEach(async () => {
      await repo.close()
    })

    test('an unknown picture is undefined', async () => {
      expect(await repo.getPicture('facebook', 'nobody')).toBeUndefined()
    })

    test('a stored picture reads back field for field', async () => {
      const p = picture()
      await repo.putPicture(p)
      expect(await repo.getPicture(p.type, p.publicId)).toEqual(p)
    })

    test('nullable fields round-trip as null (a "none" picture holds no original)', async () => {
      const none = picture({
        status: 'none',
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
      })
      await repo.putPicture(none)
      expect(await repo.getPicture(none.type, none.publicId)).toEqual(none)
    })

    test('faces: null (not detected yet) and [] (detected, none found) stay distinct', async () => {
      await repo.putPicture(picture({ publicId: 'undetected', faces: null }))
      await repo.putPicture(picture({ publicId: 'faceless', faces: [] }))
      const two = [
        { x: 1, y: 2, w: 3, h: 4 },
        { x: 5.5, y: 6, w: 7, h: 8 },
      ]
      await repo.putPicture(picture({ publicId: 'two', faces: two }))
      expect((await repo.getPicture('facebook', 'undetected'))?.faces).toBeNull()
      expect((await repo.getPicture('facebook', 'faceless'))?.faces).toEqual([])
      expect((await repo.getPicture('facebook', 'two'))?.faces).toEqual(two)
    })

    test('the same public id under two types is two pictures', async () => {
      await repo.putPicture(picture({ type: 'facebook', publicId: 'x', version: 1 }))
      await repo.putPicture(picture({ type: 'twitter', publicId: 'x', version: 2 }))
      expect((await repo.getPicture('facebook', 'x'))?.version).toBe(1)
      expect((await repo.getPicture('twitter', 'x'))?.version).toBe(2)
    })

    test('putPicture on an existing key replaces every field', async () => {
      await repo.putPicture(picture())
      const replaced = picture({
        version: 1_800_000_000,
        status: 'not_found',
        upstreamUrl: null,
        changeKey: 'ck-2',
        etag: null,
        lastModified: null,
        contentHash: null,
        format: null,
        width: null,
        height: null,
        bytes: null,
        faces: null,
        createdAt: 1,
        fetchedAt: 2,
        checkedAt: 3,
      })
      await repo.putPicture(replaced)
      expect(await repo.getPicture(replaced.type, replaced.publicId)).toEqual(replaced)
    })

    test('putPicture on an existing key keeps its derivatives (an upsert, not delete + insert)', async () => {
      await repo.putPicture(picture())
      await repo.putDerivative(derivative())
      await repo.putPicture(picture({ checkedAt: 1_800_000_000_000 }))
      expect(await repo.getDerivative('facebook', '65646572251', 1_700_000_000, 'c_fill,h_120,w_80/jpg')).toEqual(
        derivative(),
      )
    })

    test('deletePicture reports whether a row existed', async () => {
      await repo.putPicture(picture())
      expect(await repo.deletePicture('facebook', '65646572251')).toBe(true)
      expect(await repo.getPicture('facebook', '65646572251')).toBeUndefined()
      expect(await repo.deletePicture('facebook', '65646572251')).toBe(false)
    })

    test("deletePicture also removes its derivatives (cascade) but no other picture's", async () => {
      await repo.putPicture(picture())
      await repo.putPicture(picture({ publicId: 'other' }))
      await repo.putDerivative(derivative())
      await repo.putDerivative(derivative({ publicId: 'other' }))
      await repo.deletePicture('facebook', '65646572251')
      expect(
        await repo.getDerivative('facebook', '65646572251', 1_700_000_000, 'c_fill,h_120,w_80/jpg'),
      ).toBeUndefined()
      expect(await repo.getDerivative('facebook', 'other', 1_700_000_000, 'c_fill,h_120,w_80/jpg')).toEqual(
        derivative({ publicId: 'other' }),
      )
    })
  })

  describe(`${engine.name} repository: derivatives`, () => {
    let repo: Repository
    const key = 'c_fill,h_120,w_80/jpg'
    beforeEach(async () => {
      repo = await engine.open()
      await repo.putPicture(picture())
    })
    afterEach(async () => {
      await repo.close()
    })

    test('a stored derivative reads back; other versions or keys are misses', async () => {
      const d = derivative()
      await repo.putDerivative(d)
      expect(await repo.getDerivative(d.type, d.publicId, d.version, d.key)).toEqual(d)
      expect(await repo.getDerivative(d.type, d.publicId, d.version + 1, d.key)).toBeUndefined()
      expect(await repo.getDerivative(d.type, d.publicId, d.version, 'c_fill,h_120,w_80/png')).toBeUndefined()
      expect(await repo.getDerivative('twitter', d.publicId, d.version, d.key)).toBeUndefined()
    })

    test('putDerivative on an existing key replaces it', async () => {
      await repo.putDerivative(derivative())
      const replaced = derivative({
        format: 'webp',
        contentHash: HASH_C,
        bytes: 99,
        width: 8,
        height: 12,
        createdAt: 5,
        lastServedAt: 6,
      })
      await repo.putDerivative(replaced)
      expect(await repo.getDerivative(replaced.type, replaced.publicId, replaced.version, replaced.key)).toEqual(
        replaced,
      )
    })

    test('a derivative of a picture that does not exist is refused (it would orphan its blob)', async () => {
      await expect(repo.putDerivative(derivative({ publicId: 'ghost' }))).rejects.toThrow(/foreign key/i)
    })

    test('recordServed moves lastServedAt forward only', async () => {
      await repo.putDerivative(derivative({ lastServedAt: 1_000 }))
      const id = { type: 'facebook', publicId: '65646572251', version: 1_700_000_000, key }
      await repo.recordServed({ derivatives: [{ ...id, at: 5_000 }], pictures: [] })
      expect((await repo.getDerivative('facebook', '65646572251', 1_700_000_000, key))?.lastServedAt).toBe(5_000)
      await repo.recordServed({ derivatives: [{ ...id, at: 3_000 }], pictures: [] }) // a late, out-of-order batch
      expect((await repo.getDerivative('facebook', '65646572251', 1_700_000_000, key))?.lastServedAt).toBe(5_000)
    })

    test('recording a delivery of a missing derivative is a no-op', async () => {
      await repo.recordServed({
        derivatives: [{ type: 'facebook', publicId: '65646572251', version: 1, key: 'nope/jpg', at: 5_000 }],
        pictures: [{ type: 'facebook', publicId: 'nobody', at: 5_000 }],
      })
      expect(await repo.getDerivative('facebook', '65646572251', 1, 'nope/jpg')).toBeUndefined()
      expect(await repo.getPicture('facebook', 'nobody')).toBeUndefined()
    })

    test('deleteDerivatives drops every version of one picture and returns each content hash once', async () => {
      await repo.putPicture(picture({ publicId: 'other' }))
      await repo.putDerivative(derivative({ version: 1, key: 'w_10/jpg', contentHash: HASH_A }))
      await repo.putDerivative(derivative({ version: 2, key: 'w_10/jpg', contentHash: HASH_B }))
      await repo.putDerivative(derivative({ version: 2, key: 'w_20/jpg', contentHash: HASH_B })) // same bytes as above
      await repo.putDerivative(derivative({ publicId: 'other', contentHash: HASH_C }))

      expect((await repo.deleteDerivatives('facebook', '65646572251')).sort()).toEqual([HASH_A, HASH_B])
      expect(await repo.getDerivative('facebook', '65646572251', 2, 'w_20/jpg')).toBeUndefined()
      expect(await repo.getDerivative('facebook', 'other', 1_700_000_000, key)).toBeDefined()
      expect(await repo.deleteDerivatives('facebook', '65646572251')).toEqual([])
    })

    test('isBlobReferenced sees originals and derivatives, and forgets them once deleted', async () => {
      // picture() references HASH_A as its original.
      await repo.putDerivative(derivative({ contentHash: HASH_B }))
      expect(await repo.isBlobReferenced(HASH_A)).toBe(true)
      expect(await repo.isBlobReferenced(HASH_B)).toBe(true)
      expect(await repo.isBlobReferenced(HASH_C)).toBe(false)

      await repo.deleteDerivatives('facebook', '65646572251')
      expect(await repo.isBlobReferenced(HASH_B)).toBe(false)
      expect(await repo.isBlobReferenced(HASH_A)).toBe(true)

      await repo.putPicture(picture({ status: 'none', contentHash: null }))
      expect(await repo.isBlobReferenced(HASH_A)).toBe(false)
    })

    test('a blob shared by two pictures stays referenced until both let go', async () => {
      await repo.putPicture(picture({ publicId: 'twin' })) // same original bytes, HASH_A
      await repo.deletePicture('facebook', '65646572251')
      expect(await repo.isBlobReferenced(HASH_A)).toBe(true)
      await repo.deletePicture('facebook', 'twin')
      expect(await repo.isBlobReferenced(HASH_A)).toBe(false)
    })
  })

  describe(`${engine.name} repository: listPictures`, () => {
    let repo: Repository
    beforeEach(async () => {
      repo = await engine.open()
    })
    afterEach(async () => {
      await repo.close()
    })

    /** 23 facebook pictures with clashing creation times, plus noise under another type. */
    async function seed(): Promise<Picture[]> {
      const all: Picture[] = []
      for (let i = 0; i < 23; i++) {
        // Five pictures per millisecond: the public id must break ties for a stable order.
        const p = picture({
          publicId: `id-${String((i * 7) % 23).padStart(2, '0')}`,
          createdAt: 1_000 + Math.floor(i / 5),
        })
        all.push(p)
        await repo.putPicture(p)
      }
      await repo.putPicture(picture({ type: 'twitter', publicId: 'id-99', createdAt: 1_002 }))
      return all
    }

    async function pageThrough(
      maxResults: number,
      direction?: 'asc' | 'desc',
    ): Promise<{ ids: string[]; pages: number }> {
      const ids: string[] = []
      let cursor: string | undefined
      let pages = 0
      do {
        const page = await repo.listPictures({ type: 'facebook', maxResults, cursor, direction })
        pages++
        ids.push(...page.pictures.map((p) => p.publicId))
        cursor = page.nextCursor
      } while (cursor !== undefined && pages < 100)
      return { ids, pages }
    }

    const byCreation = (a: Picture, b: Picture) => a.createdAt - b.createdAt || (a.publicId < b.publicId ? -1 : 1)

    test('newest first by default, ties broken by public id, only the requested type', async () => {
      const all = await seed()
      const page = await repo.listPictures({ type: 'facebook', maxResults: 500 })
      expect(page.pictures.map((p) => p.publicId)).toEqual(
        all
          .sort(byCreation)
          .reverse()
          .map((p) => p.publicId),
      )
      expect(page.pictures.every((p) => p.type === 'facebook')).toBe(true)
      expect(page.nextCursor).toBeUndefined()
    })

    test('pages of 7 cover every picture exactly once, in order, then stop', async () => {
      const all = await seed()
      const { ids, pages } = await pageThrough(7)
      expect(ids).toEqual(
        all
          .sort(byCreation)
          .reverse()
          .map((p) => p.publicId),
      )
      expect(pages).toBe(4) // 7 + 7 + 7 + 2
    })

    test('ascending order pages the same way', async () => {
      const all = await seed()
      const { ids } = await pageThrough(5, 'asc')
      expect(ids).toEqual(all.sort(byCreation).map((p) => p.publicId))
    })

    test('no cursor when the last page is exactly full', async () => {
      await seed()
      const { ids, pages } = await pageThrough(23)
      expect(ids).toHaveLength(23)
      expect(pages).toBe(1)
    })

    test('an empty type lists nothing', async () => {
      expect(await repo.listPictures({ type: 'gravatar', maxResults: 10 })).toEqual({ pictures: [] })
    })

    test('maxResults is clamped to 1..500', async () => {
      for (let i = 0; i < 501; i++) await repo.putPicture(picture({ publicId: `p${i}`, createdAt: i }))
      expect((await repo.listPictures({ type: 'facebook', maxResults: 0 })).pictures).toHaveLength(1)
      expect((await repo.listPictures({ type: 'facebook', maxResults: -5 })).pictures).toHaveLength(1)
      const big = await repo.listPictures({ type: 'facebook', maxResults: 10_000 })
      expect(big.pictures).toHaveLength(500)
      expect(big.nextCursor).toBeDefined()
    })

    test('rows inserted or deleted between pages cause no duplicates and no skipped survivors', async () => {
      const all = (await seed()).sort(byCreation).reverse()
      const first = await repo.listPictures({ type: 'facebook', maxResults: 10 })
      // Meanwhile: a brand-new picture (sorts before the cursor, so it is not repeated on later pages),
      // the page's last row and an unseen row are deleted.
      await repo.putPicture(picture({ publicId: 'zz-new', createdAt: 9_999 }))
      await repo.deletePicture('facebook', all[9]!.publicId)
      await repo.deletePicture('facebook', all[15]!.publicId)
      const rest: string[] = []
      let cursor = first.nextCursor
      for (let guard = 0; cursor !== undefined && guard < 20; guard++) {
        const page = await repo.listPictures({ type: 'facebook', maxResults: 10, cursor })
        rest.push(...page.pictures.map((p) => p.publicId))
        cursor = page.nextCursor
      }
      const seen = [...first.pictures.map((p) => p.publicId), ...rest]
      expect(new Set(seen).size).toBe(seen.length)
      expect(rest).toEqual(
        all
          .slice(10)
          .map((p) => p.publicId)
          .filter((id) => id !== all[15]!.publicId),
      )
    })

    test('a garbled cursor is a clear 400', async () => {
      await seed()
      for (const bad of ['', 'not a cursor!', 'AAAA', Buffer.from('{"a":1}').toString('base64url'), 'x'.repeat(5000)]) {
        const attempt = repo.listPictures({ type: 'facebook', maxResults: 5, cursor: bad })
        await expect(attempt).rejects.toMatchObject({ status: 400 })
        await expect(attempt).rejects.toThrow(/Invalid next_cursor/)
      }
    })

    test('a cursor only works for the list it came from (type, direction, sort, prefix, status)', async () => {
      await seed()
      const { nextCursor } = await repo.listPictures({ type: 'facebook', maxResults: 5 })
      expect(nextCursor).toBeDefined()
      const retry = (options: Partial<ListOptions>) =>
        repo.listPictures({ type: 'facebook', maxResults: 5, cursor: nextCursor, ...options })
      await expect(retry({ type: 'twitter' })).rejects.toThrow(/another type/)
      await expect(retry({ type: undefined })).rejects.toThrow(/another type/)
      await expect(retry({ direction: 'asc' })).rejects.toThrow(/another sort direction/)
      await expect(retry({ sortBy: 'checked_at' })).rejects.toThrow(/another sort order/)
      await expect(retry({ prefix: 'id-1' })).rejects.toThrow(/another prefix/)
      await expect(retry({ status: 'ok' })).rejects.toThrow(/another status filter/)
    })

    test('without a type, every network is listed, ties broken by type then public id', async () => {
      const all = await seed()
      all.push(picture({ type: 'twitter', publicId: 'id-99', createdAt: 1_002 }))
      const ids: string[] = []
      let cursor: string | undefined
      do {
        const page = await repo.listPictures({ maxResults: 4, cursor })
        ids.push(...page.pictures.map((p) => `${p.type}/${p.publicId}`))
        cursor = page.nextCursor
      } while (cursor !== undefined)
      const newestFirst = (a: Picture, b: Picture) =>
        b.createdAt - a.createdAt ||
        (a.type < b.type ? 1 : a.type > b.type ? -1 : 0) ||
        (a.publicId < b.publicId ? 1 : -1)
      expect(ids).toEqual(all.sort(newestFirst).map((p) => `${p.type}/${p.publicId}`))
    })

    test('a prefix matches exactly and case-sensitively, with LIKE wildcards taken literally', async () => {
      for (const id of ['abc1', 'abc2', 'ABC3', 'ab%c', 'ab_c', 'xabc'])
        await repo.putPicture(picture({ publicId: id }))
      const ids = async (prefix: string) =>
        (await repo.listPictures({ type: 'facebook', prefix, maxResults: 50 })).pictures.map((p) => p.publicId).sort()
      expect(await ids('abc')).toEqual(['abc1', 'abc2'])
      expect(await ids('ab%')).toEqual(['ab%c'])
      expect(await ids('ab_')).toEqual(['ab_c'])
      expect(await ids('ABC')).toEqual(['ABC3'])
    })

    test('a status filter lists only held pictures, not remembered "no picture" answers', async () => {
      await repo.putPicture(picture({ publicId: 'held' }))
      await repo.putPicture(picture({ publicId: 'none', status: 'none', contentHash: null }))
      const page = await repo.listPictures({ type: 'facebook', status: 'ok', maxResults: 10 })
      expect(page.pictures.map((p) => p.publicId)).toEqual(['held'])
    })

    test('sorting by last check pages through every row once, in check order', async () => {
      for (let i = 0; i < 12; i++) await repo.putPicture(picture({ publicId: `c${i}`, checkedAt: 5_000 - (i % 4) }))
      const ids: string[] = []
      let cursor: string | undefined
      do {
        const page = await repo.listPictures({
          type: 'facebook',
          sortBy: 'checked_at',
          direction: 'asc',
          maxResults: 5,
          cursor,
        })
        ids.push(...page.pictures.map((p) => p.publicId))
        cursor = page.nextCursor
      } while (cursor !== undefined)
      expect(new Set(ids).size).toBe(12)
      const checked = ids.map((id) => 5_000 - (Number(id.slice(1)) % 4))
      expect(checked).toEqual([...checked].sort((a, b) => a - b))
    })
  })

  describe(`${engine.name} repository: counts, refresh queue, derivative lists`, () => {
    let repo: Repository
    beforeEach(async () => {
      repo = await engine.open()
    })
    afterEach(async () => {
      await repo.close()
    })

    test('countPictures groups rows by network and status', async () => {
      await repo.putPicture(picture({ publicId: 'a' }))
      await repo.putPicture(picture({ publicId: 'b' }))
      await repo.putPicture(picture({ publicId: 'c', status: 'none', contentHash: null }))
      await repo.putPicture(picture({ type: 'gravatar', publicId: 'd' }))
      expect(await repo.countPictures()).toEqual([
        { type: 'facebook', status: 'none', count: 1 },
        { type: 'facebook', status: 'ok', count: 2 },
        { type: 'gravatar', status: 'ok', count: 1 },
      ])
    })

    test('listDueForRefresh: only held pictures of that network checked before the cut-off, oldest first', async () => {
      await repo.putPicture(picture({ publicId: 'old', checkedAt: 100 }))
      await repo.putPicture(picture({ publicId: 'older', checkedAt: 50 }))
      await repo.putPicture(picture({ publicId: 'fresh', checkedAt: 1_000 }))
      await repo.putPicture(picture({ publicId: 'none', status: 'none', contentHash: null, checkedAt: 10 }))
      await repo.putPicture(picture({ type: 'gravatar', publicId: 'other', checkedAt: 10 }))
      expect((await repo.listDueForRefresh('facebook', 500, 10)).map((p) => p.publicId)).toEqual(['older', 'old'])
      expect((await repo.listDueForRefresh('facebook', 500, 1)).map((p) => p.publicId)).toEqual(['older'])
      expect(await repo.countDueForRefresh('facebook', 500)).toBe(2)
      expect(await repo.countDueForRefresh('facebook', 60)).toBe(1)
      expect(await repo.countDueForRefresh('twitter', 500)).toBe(0)
    })

    test('listDerivatives returns every version of one picture only', async () => {
      await repo.putPicture(picture())
      await repo.putPicture(picture({ publicId: 'other' }))
      await repo.putDerivative(derivative({ key: 'a/jpg', version: 1 }))
      await repo.putDerivative(derivative({ key: 'b/jpg', version: 2 }))
      await repo.putDerivative(derivative({ publicId: 'other', key: 'c/jpg' }))
      expect((await repo.listDerivatives('facebook', '65646572251')).map((d) => [d.version, d.key])).toEqual([
        [2, 'b/jpg'],
        [1, 'a/jpg'],
      ])
    })
  })

  describe(`${engine.name} repository: expired "no picture" answers`, () => {
    test('deleteExpiredAbsent forgets only absent rows checked before the cut-off, at most the limit', async () => {
      const repo = await engine.open()
      try {
        await repo.putPicture(picture({ publicId: 'held', checkedAt: 10 }))
        await repo.putPicture(picture({ publicId: 'old-none', status: 'none', contentHash: null, checkedAt: 10 }))
        await repo.putPicture(
          picture({ publicId: 'old-unknown', status: 'not_found', contentHash: null, checkedAt: 20 }),
        )
        await repo.putPicture(picture({ publicId: 'fresh-none', status: 'none', contentHash: null, checkedAt: 900 }))
        expect(await repo.deleteExpiredAbsent(500, 1)).toBe(1)
        expect(await repo.deleteExpiredAbsent(500, 100)).toBe(1)
        const left = (await repo.listPictures({ maxResults: 10 })).pictures.map((p) => p.publicId).sort()
        expect(left).toEqual(['fresh-none', 'held'])
      } finally {
        await repo.close()
      }
    })
  })

  const hash = (n: number) => n.toString(16).padStart(64, '0')

  describe(`${engine.name}: store usage: the distinct blobs rows name`, () => {
    let repo: Repository
    beforeEach(async () => {
      repo = await engine.open()
    })
    afterEach(async () => {
      await repo.close()
    })

    test('an empty store is 0 bytes in 0 blobs', async () => {
      expect(await repo.storeUsage()).toEqual({ bytes: 0, blobs: 0 })
    })

    test('a blob named by an original and two derived images counts once, until the last row goes', async () => {
      await repo.putPicture(picture({ contentHash: HASH_A, bytes: 1000 }))
      await repo.putDerivative(derivative({ key: 'a/jpg', contentHash: HASH_A, bytes: 1000 }))
      await repo.putDerivative(derivative({ key: 'b/jpg', contentHash: HASH_A, bytes: 1000 }))
      await repo.putDerivative(derivative({ key: 'c/jpg', contentHash: HASH_B, bytes: 10 }))
      expect(await repo.storeUsage()).toEqual({ bytes: 1010, blobs: 2 })
      await repo.deleteDerivatives('facebook', '65646572251')
      expect(await repo.storeUsage()).toEqual({ bytes: 1000, blobs: 1 }) // the original still names HASH_A
      await repo.deletePicture('facebook', '65646572251')
      expect(await repo.storeUsage()).toEqual({ bytes: 0, blobs: 0 })
    })

    test('a cascade from a deleted picture and an upsert naming other bytes keep it exact', async () => {
      await repo.putPicture(picture({ contentHash: HASH_A, bytes: 1000 }))
      await repo.putDerivative(derivative({ contentHash: HASH_A, bytes: 1000 }))
      await repo.putDerivative(derivative({ key: 'x/jpg', contentHash: HASH_B, bytes: 20 }))
      await repo.putDerivative(derivative({ key: 'x/jpg', contentHash: HASH_C, bytes: 30 })) // replaced bytes
      expect(await repo.storeUsage()).toEqual({ bytes: 1030, blobs: 2 })
      await repo.deletePicture('facebook', '65646572251') // derivatives go by the foreign key's cascade
      expect(await repo.storeUsage()).toEqual({ bytes: 0, blobs: 0 })
    })

    test('a picture whose original went away ("none") stops counting it', async () => {
      await repo.putPicture(picture({ contentHash: HASH_A, bytes: 1000 }))
      const { contentHash: _, ...rest } = picture()
      await repo.putPicture({
        ...(rest as Picture),
        status: 'none',
        contentHash: null,
        format: null,
        width: null,
        height: null,
        bytes: null,
        faces: null,
      } as Picture)
      expect(await repo.storeUsage()).toEqual({ bytes: 0, blobs: 0 })
    })

    test('after any sequence of writes it equals the distinct sum recomputed from the rows', async () => {
      // A small model of the rows (key → hash), driven by a seeded generator over few hashes so that
      // sharing, replacing and cascades all happen often.
      let seed = 7
      const random = (n: number) => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
        return seed % n
      }
      const sizeOf = (h: number) => 100 + h
      const ids = ['p0', 'p1', 'p2']
      for (let step = 0; step < 400; step++) {
        const id = ids[random(ids.length)]!
        const h = random(6)
        const action = random(6)
        if (action === 0) await repo.putPicture(picture({ publicId: id, contentHash: hash(h), bytes: sizeOf(h) }))
        else if (action === 1) await repo.deletePicture('facebook', id)
        else if (action === 2) await repo.deleteDerivatives('facebook', id)
        else if (await repo.getPicture('facebook', id)) {
          const row = derivative({ publicId: id, key: `k${random(3)}/jpg`, contentHash: hash(h), bytes: sizeOf(h) })
          await repo.putDerivative(row)
        }
        expect(await repo.storeUsage()).toEqual(await recount(repo, ids))
      }
    })
  })

  /** The distinct blobs named by the rows of these pictures, computed the slow way. */
  async function recount(repo: Repository, ids: string[]): Promise<{ bytes: number; blobs: number }> {
    const sizes = new Map<string, number>()
    for (const id of ids) {
      const p = await repo.getPicture('facebook', id)
      if (p?.contentHash) sizes.set(p.contentHash, p.bytes ?? 0)
      for (const d of await repo.listDerivatives('facebook', id)) sizes.set(d.contentHash, d.bytes)
    }
    return { bytes: [...sizes.values()].reduce((a, b) => a + b, 0), blobs: sizes.size }
  }

  describe(`${engine.name}: least recently served`, () => {
    let repo: Repository
    const at = (lastServedAt: number, overrides: Partial<Derivative> = {}) =>
      derivative({ key: `w_${lastServedAt}/jpg`, lastServedAt, ...overrides })
    beforeEach(async () => {
      repo = await engine.open()
      await repo.putPicture(picture())
    })
    afterEach(async () => {
      await repo.close()
    })

    test('cold derived images come oldest delivery first; eager ones and recent ones never', async () => {
      for (const d of [at(300), at(100), at(200), at(50, { eager: true }), at(900)]) await repo.putDerivative(d)
      const cold = await repo.listColdDerivatives(500, 10)
      expect(cold.map((d) => d.lastServedAt)).toEqual([100, 200, 300])
      expect((await repo.listColdDerivatives(500, 2)).length).toBe(2)
    })

    test('evicting a derived image happens only while it is still cold and not eager', async () => {
      await repo.putDerivative(at(100, { contentHash: HASH_C }))
      await repo.putDerivative(at(50, { key: 'eager/jpg', eager: true }))
      const id = { type: 'facebook', publicId: '65646572251', version: 1_700_000_000, key: 'w_100/jpg' }
      // Delivered after it was listed: kept.
      await repo.recordServed({ derivatives: [{ ...id, at: 700 }], pictures: [] })
      expect(await repo.evictDerivatives([id], 500)).toEqual([undefined])
      const eager = { ...id, key: 'eager/jpg' }
      expect(await repo.evictDerivatives([eager, id], 800)).toEqual([undefined, HASH_C])
      expect(await repo.getDerivative(id.type, id.publicId, id.version, id.key)).toBeUndefined()
      expect(await repo.getDerivative(id.type, id.publicId, id.version, eager.key)).toBeDefined()
    })

    test('cold pictures: held only, oldest delivery first, never one with an eager derived image', async () => {
      // A new row starts as served when it was fetched; deliveries move it forward only.
      await repo.putPicture(picture({ publicId: 'b', fetchedAt: 200 }))
      await repo.putPicture(picture({ publicId: 'c', fetchedAt: 300 }))
      await repo.putPicture(picture({ publicId: 'eager', fetchedAt: 10 }))
      await repo.putDerivative(derivative({ publicId: 'eager', eager: true }))
      await repo.putPicture({ ...picture({ publicId: 'none', fetchedAt: 10 }), ...absent })
      await repo.recordServed({ derivatives: [], pictures: [{ type: 'facebook', publicId: 'b', at: 400 }] })
      await repo.putPicture(picture({ publicId: 'b', fetchedAt: 250 })) // a refresh does not rewind it
      const cold = await repo.listColdPictures(1_000, 10)
      expect(cold.map((p) => [p.publicId, p.lastServedAt])).toEqual([
        ['c', 300],
        ['b', 400],
      ])
      expect(cold[0]).toMatchObject({ contentHash: HASH_A, bytes: 12_345 })
      // The fixture picture (fetched at 1_700_000_000_100) is not cold before then.
      expect((await repo.listColdPictures(1_800_000_000_000, 10)).map((p) => p.publicId)).toContain('65646572251')
    })

    test('evicting a picture forgets its row and derived images and names their blobs, only while cold', async () => {
      await repo.putPicture(picture({ publicId: 'p', fetchedAt: 100, contentHash: HASH_A }))
      await repo.putDerivative(derivative({ publicId: 'p', key: 'a/jpg', contentHash: HASH_B }))
      await repo.putDerivative(derivative({ publicId: 'p', key: 'b/jpg', contentHash: HASH_B }))
      await repo.putDerivative(derivative({ publicId: 'p', key: 'c/jpg', contentHash: HASH_C }))
      expect(await repo.evictPicture('facebook', 'p', 50)).toBeUndefined() // served at 100: not cold before 50
      expect(await repo.evictPicture('facebook', 'p', 150)).toEqual([HASH_A, HASH_B, HASH_C])
      expect(await repo.getPicture('facebook', 'p')).toBeUndefined()
      expect(await repo.listDerivatives('facebook', 'p')).toEqual([])
      expect(await repo.evictPicture('facebook', 'p', 150)).toBeUndefined()
    })
  })

  const absent = { ...NO_ORIGINAL, status: 'none' } as const

  describe(`${engine.name}: garbage collection queries`, () => {
    let repo: Repository
    beforeEach(async () => {
      repo = await engine.open()
    })
    afterEach(async () => {
      await repo.close()
    })

    test('referenced blobs are listed once each, in hash order, page by page, originals apart from derived', async () => {
      await repo.putPicture(picture({ publicId: 'a', contentHash: hash(3) }))
      await repo.putPicture(picture({ publicId: 'b', contentHash: hash(1) }))
      await repo.putPicture(picture({ publicId: 'c', contentHash: hash(3) }))
      for (const [key, h] of [
        ['k1/jpg', 5],
        ['k2/jpg', 4],
        ['k3/jpg', 5],
        ['k4/jpg', 2],
      ] as const) {
        await repo.putDerivative(derivative({ publicId: 'a', key, contentHash: hash(h) }))
      }
      expect(await repo.listReferencedBlobs('original', '', 10)).toEqual([hash(1), hash(3)])
      expect(await repo.listReferencedBlobs('derived', '', 2)).toEqual([hash(2), hash(4)])
      expect(await repo.listReferencedBlobs('derived', hash(4), 2)).toEqual([hash(5)])
      expect(await repo.deleteDerivativesOfBlob(hash(5))).toBe(2)
      expect(await repo.listReferencedBlobs('derived', '', 10)).toEqual([hash(2), hash(4)])
    })

    test('countExpiredAbsent counts what deleteExpiredAbsent would delete', async () => {
      await repo.putPicture({ ...picture({ publicId: 'old', checkedAt: 100 }), ...absent })
      await repo.putPicture({ ...picture({ publicId: 'new', checkedAt: 900 }), ...absent })
      await repo.putPicture(picture({ publicId: 'held', checkedAt: 100 }))
      expect(await repo.countExpiredAbsent(500)).toBe(1)
      expect(await repo.deleteExpiredAbsent(500, 10)).toBe(1)
    })
  })
}
