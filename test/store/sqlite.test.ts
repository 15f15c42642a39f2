import { Database } from 'bun:sqlite'
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { openSqliteRepository } from '../../src/store/sqlite.ts'
import type { ListOptions, Picture, Repository } from '../../src/store/types.ts'
import { derivative, HASH_A, HASH_B, HASH_C, picture, tempDir } from '../support/store-fixtures.ts'

describe('SQLite repository: pictures', () => {
  let repo: Repository
  beforeEach(() => {
    repo = openSqliteRepository(':memory:')
  })
  afterEach(() => repo.close())

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
    expect(await repo.getDerivative('facebook', '65646572251', 1_700_000_000, 'c_fill,h_120,w_80/jpg')).toBeUndefined()
    expect(await repo.getDerivative('facebook', 'other', 1_700_000_000, 'c_fill,h_120,w_80/jpg')).toEqual(
      derivative({ publicId: 'other' }),
    )
  })
})

describe('SQLite repository: derivatives', () => {
  let repo: Repository
  const key = 'c_fill,h_120,w_80/jpg'
  beforeEach(async () => {
    repo = openSqliteRepository(':memory:')
    await repo.putPicture(picture())
  })
  afterEach(() => repo.close())

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
    expect(await repo.getDerivative(replaced.type, replaced.publicId, replaced.version, replaced.key)).toEqual(replaced)
  })

  test('a derivative of a picture that does not exist is refused (it would orphan its blob)', async () => {
    await expect(repo.putDerivative(derivative({ publicId: 'ghost' }))).rejects.toThrow(/FOREIGN KEY/)
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

describe('SQLite repository: listPictures', () => {
  let repo: Repository
  beforeEach(() => {
    repo = openSqliteRepository(':memory:')
  })
  afterEach(() => repo.close())

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
    for (const id of ['abc1', 'abc2', 'ABC3', 'ab%c', 'ab_c', 'xabc']) await repo.putPicture(picture({ publicId: id }))
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

describe('SQLite repository: counts, refresh queue, derivative lists', () => {
  let repo: Repository
  beforeEach(() => {
    repo = openSqliteRepository(':memory:')
  })
  afterEach(() => repo.close())

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

describe('SQLite repository: on disk', () => {
  let dir: ReturnType<typeof tempDir>
  beforeEach(() => {
    dir = tempDir()
  })
  afterEach(() => dir.cleanup())

  test('the database file is readable by this user only', () => {
    const path = join(dir.path, 'private.db')
    openSqliteRepository(path).close()
    expect(statSync(path).mode & 0o777).toBe(0o600)
  })

  test('creates missing parent folders, uses WAL, and reopens an existing file', async () => {
    const path = join(dir.path, 'nested', 'headshot.db')
    const first = openSqliteRepository(path)
    await first.putPicture(picture())
    first.close()
    first.close() // closing twice is harmless

    const raw = new Database(path, { readonly: true })
    expect((raw.query('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode).toBe('wal')
    raw.close()

    const again = openSqliteRepository(path) // migrations already applied: must not fail or wipe data
    expect(await again.getPicture('facebook', '65646572251')).toEqual(picture())
    again.close()
  })

  test("two instances on one file (as two processes would) see each other's writes", async () => {
    const path = join(dir.path, 'shared.db')
    const a = openSqliteRepository(path)
    const b = openSqliteRepository(path)
    try {
      await a.putPicture(picture())
      expect(await b.getPicture('facebook', '65646572251')).toEqual(picture())
      await b.putDerivative(derivative())
      expect(await a.getDerivative('facebook', '65646572251', 1_700_000_000, 'c_fill,h_120,w_80/jpg')).toEqual(
        derivative(),
      )
      expect(await b.deletePicture('facebook', '65646572251')).toBe(true)
      expect(await a.getPicture('facebook', '65646572251')).toBeUndefined()
      expect(await a.isBlobReferenced(HASH_B)).toBe(false)
    } finally {
      a.close()
      b.close()
    }
  })

  test('a row this version cannot represent fails loudly instead of being mistyped', async () => {
    const path = join(dir.path, 'odd.db')
    const repo = openSqliteRepository(path)
    await repo.putPicture(picture())
    const raw = new Database(path)
    raw.run(`UPDATE pictures SET status = 'banned'`)
    raw.close()
    await expect(repo.getPicture('facebook', '65646572251')).rejects.toThrow(/pictures\.status.*banned/)
    repo.close()
  })
})

describe('SQLite repository: expired "no picture" answers', () => {
  test('deleteExpiredAbsent forgets only absent rows checked before the cut-off, at most the limit', async () => {
    const repo = openSqliteRepository(':memory:')
    try {
      await repo.putPicture(picture({ publicId: 'held', checkedAt: 10 }))
      await repo.putPicture(picture({ publicId: 'old-none', status: 'none', contentHash: null, checkedAt: 10 }))
      await repo.putPicture(picture({ publicId: 'old-unknown', status: 'not_found', contentHash: null, checkedAt: 20 }))
      await repo.putPicture(picture({ publicId: 'fresh-none', status: 'none', contentHash: null, checkedAt: 900 }))
      expect(await repo.deleteExpiredAbsent(500, 1)).toBe(1)
      expect(await repo.deleteExpiredAbsent(500, 100)).toBe(1)
      const left = (await repo.listPictures({ maxResults: 10 })).pictures.map((p) => p.publicId).sort()
      expect(left).toEqual(['fresh-none', 'held'])
    } finally {
      repo.close()
    }
  })
})
