/**
 * Which metadata backend this instance uses: SQLite in the data directory (the default: one binary,
 * one folder), or PostgreSQL when HEADSHOT_DATABASE_URL names one (docs/operations.md, PostgreSQL).
 */
import { join } from 'node:path'
import type { SQL } from 'bun'
import type { NotifyChannel } from './fanout.ts'
import { createPostgresLeases, type LeaseTable } from './leases.ts'
import { openPostgresDatabase } from './postgres.ts'
import { openSqliteRepository } from './sqlite.ts'
import type { Repository } from './types.ts'

export type DatabaseEngine = 'sqlite' | 'postgresql'

export interface OpenedRepository {
  engine: DatabaseEngine
  repo: Repository
  /**
   * Settles once the backend can serve: at once for SQLite (opened and migrated synchronously),
   * after connecting and migrating for PostgreSQL. Rejects, without the URL's password, when it cannot.
   */
  ready: Promise<void>
  /** PostgreSQL's client for LISTEN/NOTIFY (the invalidation fan-out); undefined on SQLite. */
  channel?: Promise<NotifyChannel>
  /** PostgreSQL's work leases, shared by the instances on the database (src/store/leases.ts); undefined on SQLite. */
  leases?: LeaseTable
  /** PostgreSQL's client itself (state shared between instances: upstream pauses); undefined on SQLite. */
  client?: Promise<SQL>
}

export function openRepository(config: { dataDir: string; databaseUrl?: string }): OpenedRepository {
  if (config.databaseUrl === undefined) {
    return {
      engine: 'sqlite',
      repo: openSqliteRepository(join(config.dataDir, 'headshot.db')),
      ready: Promise.resolve(),
    }
  }
  const database = openPostgresDatabase(config.databaseUrl)
  const opening = database.then((opened) => opened.repo)
  const client = database.then((opened) => opened.client)
  // Whoever awaits `ready` hears of a failure; calls made meanwhile fail with the same error.
  opening.catch(() => {})
  client.catch(() => {})
  return {
    engine: 'postgresql',
    repo: deferredRepository(opening),
    ready: opening.then(() => undefined),
    channel: client,
    leases: createPostgresLeases(client),
    client,
  }
}

/**
 * A Repository usable at once whose calls wait for the real one: the composition root stays
 * synchronous while a network backend connects and migrates.
 */
export function deferredRepository(opening: Promise<Repository>): Repository {
  let closing: Promise<void> | undefined
  return new Proxy({} as Repository, {
    get(_, name: string | symbol) {
      // Not a promise itself (`then`), nor anything but the interface's methods.
      if (typeof name !== 'string' || name === 'then') return undefined
      if (name === 'close') {
        return () =>
          (closing ??= opening.then(
            (repo) => repo.close(),
            () => {},
          ))
      }
      return async (...args: unknown[]) => {
        const repo = await opening
        return (repo[name as keyof Repository] as (...a: unknown[]) => unknown)(...args)
      }
    },
  })
}
