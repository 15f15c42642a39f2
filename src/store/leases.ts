/**
 * Work leases in PostgreSQL (migration 0002_leases): a row says which instance is doing a piece of
 * work that every instance on the database could start (fetching one picture, making one derived
 * image), and until when. src/ingest/shared-work.ts builds "once across instances" on top.
 *
 * Every expiry is written and judged with the database's clock (`now()`), never an instance's:
 * instances whose clocks disagree by seconds still agree on whether a lease has run out, because
 * only one clock is ever read. Taking a lease is one statement (`INSERT … ON CONFLICT DO UPDATE …
 * WHERE expired`): PostgreSQL serialises concurrent attempts on the primary key, so exactly one
 * holder wins a free or expired lease, and nobody wins a running one.
 *
 * Giving a lease back also sends `NOTIFY headshot_lease_released, '<name>'` (in the same statement),
 * so instances waiting for that work look for its result at once instead of at their next poll.
 * Notifications are best effort (lost while a LISTEN connection is down, absent behind a pooler in
 * transaction mode): waiters poll anyway.
 *
 * A holder that dies after its work is stored but before it gives the lease back leaves a row
 * nobody takes over: the work is done, so no instance asks for that lease again (a derived image
 * of one version is made once, ever). Every give-back therefore also deletes the leases that have
 * run out (announced like given-back ones, so a waiter takes the work over at once). A lease that
 * ran out is free already (`acquire` takes it over); should its holder be alive after all (stalled
 * past the TTL), its next renewal finds it gone, as if taken over, and the work goes on
 * (src/ingest/shared-work.ts). The table holds only work under way, so the scan is small.
 */
import type { SQL } from 'bun'
import { sha256Hex } from '../lib/hash.ts'

export interface LeaseTable {
  /**
   * Take the lease `name` for `holder` for `ttlMs` (on the database's clock), unless another
   * holder's lease is still running. True when `holder` holds it now.
   */
  acquire(name: string, holder: string, ttlMs: number): Promise<boolean>
  /** Move the expiry to `ttlMs` from now; false when `holder` no longer holds it (it ran out and was taken). */
  renew(name: string, holder: string, ttlMs: number): Promise<boolean>
  /**
   * Give the lease back; only its holder can (a lease taken over since stays with its new holder).
   * Leases of any name that have run out go too: their holders died (see above).
   */
  release(name: string, holder: string): Promise<void>
  /**
   * Call `onReleased` with the name of every lease any instance gives back from now on (best
   * effort); resolves to the function that stops it.
   */
  watch(onReleased: (name: string) => void): Promise<() => Promise<void>>
}

export const LEASE_RELEASED_CHANNEL = 'headshot_lease_released'

/** Longest lease name kept as written: a btree key must stay far below PostgreSQL's ~2.7 kB limit. */
const MAX_READABLE_NAME = 512

/**
 * The lease name of a piece of work, from its parts (kind first, e.g. `picture`, type, public id).
 * JSON keeps the parts apart whatever they contain (`/` in ids, NUL, which text cannot hold); a
 * name too long for an index key keeps a readable head and the SHA-256 of the whole.
 */
export function leaseName(...parts: ReadonlyArray<string | number>): string {
  const name = JSON.stringify(parts)
  if (Buffer.byteLength(name) <= MAX_READABLE_NAME) return name
  return `${name.slice(0, 200)}…${sha256Hex(new TextEncoder().encode(name))}`
}

export function createPostgresLeases(client: SQL | Promise<SQL>): LeaseTable {
  const ready = Promise.resolve(client)
  return {
    async acquire(name, holder, ttlMs) {
      const sql = await ready
      // A running lease makes the WHERE false: no row updated, none returned.
      const rows: unknown[] = await sql.unsafe(
        `INSERT INTO "leases" ("name", "holder", "expires_at")
           VALUES ($1, $2, now() + $3::bigint * interval '1 millisecond')
         ON CONFLICT ("name") DO UPDATE SET "holder" = excluded."holder", "expires_at" = excluded."expires_at"
           WHERE "leases"."expires_at" < now()
         RETURNING "holder"`,
        [name, holder, Math.ceil(ttlMs)],
      )
      return rows.length === 1
    },
    async renew(name, holder, ttlMs) {
      const sql = await ready
      const rows: unknown[] = await sql.unsafe(
        `UPDATE "leases" SET "expires_at" = now() + $3::bigint * interval '1 millisecond'
         WHERE "name" = $1 AND "holder" = $2 RETURNING "holder"`,
        [name, holder, Math.ceil(ttlMs)],
      )
      return rows.length === 1
    },
    async release(name, holder) {
      const sql = await ready
      // Only a lease really given back is announced (not one taken over since), and the leases of
      // dead holders that ran out. The two deletes never aim at the same row (one statement
      // must not delete a row twice).
      await sql.unsafe(
        `WITH "released" AS (DELETE FROM "leases" WHERE "name" = $1 AND "holder" = $2 RETURNING "name"),
              "abandoned" AS (DELETE FROM "leases" WHERE "expires_at" < now()
                                AND NOT ("name" = $1 AND "holder" = $2) RETURNING "name")
         SELECT pg_notify('${LEASE_RELEASED_CHANNEL}', "name")
           FROM (SELECT "name" FROM "released" UNION ALL SELECT "name" FROM "abandoned") AS "freed"`,
        [name, holder],
      )
    },
    async watch(onReleased) {
      const sql = await ready
      const subscription = await sql.listen(LEASE_RELEASED_CHANNEL, onReleased)
      return () => subscription.unlisten()
    },
  }
}
