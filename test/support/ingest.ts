/**
 * The ingest side of headshot without the HTTP app: a SQLite repository and blob store on a temp
 * dir, the built-in plugins wired to fake upstreams (their loopback base URLs come from `env`), and
 * a PictureSource that records the changes it reports. Time is whatever `now` says.
 */
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { builtinPlugins } from '../../plugins/index.ts'
import { createHttpClient } from '../../src/fetch/client.ts'
import { createPictureSource, type PictureSource } from '../../src/ingest/pictures.ts'
import { createPluginRegistry, type LoadedPlugin, type PluginRegistry } from '../../src/plugin-host/registry.ts'
import { createDiskBlobStore } from '../../src/store/blobs.ts'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import { pictures as pictureTable } from '../../src/store/schema.ts'
import { fromPicture } from '../../src/store/rows.ts'
import { openSqliteRepository } from '../../src/store/sqlite.ts'
import type { BlobStore, Picture, Repository } from '../../src/store/types.ts'

export interface IngestWorld {
  repo: Repository
  blobs: BlobStore
  registry: PluginRegistry
  pictures: PictureSource
  /** Every `onChange` the picture source reported, oldest first. */
  changes: Array<{ before: Picture; after: Picture }>
  plugin(type: string): LoadedPlugin
  /**
   * Store new pictures the way putPicture stores each, in one transaction: thousands in milliseconds
   * instead of one commit each (seconds of CPU and disk on a loaded machine, before the test begins).
   */
  seed(pictures: readonly Picture[]): void
  close(): void
}

export interface IngestWorldOptions {
  now: () => number
  refreshTtlMs?: number
  negativeTtlMs?: number
  retryDelayMs?: number
}

export function createIngestWorld(env: Record<string, string>, options: IngestWorldOptions): IngestWorld {
  const dir = mkdtempSync(join(tmpdir(), 'headshot-ingest-'))
  const dbPath = join(dir, 'headshot.db')
  const repo = openSqliteRepository(dbPath)
  const blobs = createDiskBlobStore(join(dir, 'blobs'))
  const registry = createPluginRegistry(builtinPlugins, env, (scope) => createHttpClient(scope), { now: options.now })
  const changes: IngestWorld['changes'] = []
  const pictures = createPictureSource({
    repo,
    blobs,
    refreshTtlMs: options.refreshTtlMs ?? 7 * 86_400_000,
    negativeTtlMs: options.negativeTtlMs ?? 3_600_000,
    retryDelayMs: options.retryDelayMs,
    now: options.now,
    onChange: (before, after) => changes.push({ before, after }),
  })
  return {
    repo,
    blobs,
    registry,
    pictures,
    changes,
    plugin(type) {
      const loaded = registry.get(type)
      if (!loaded) throw new Error(`no plugin ${type}`)
      return loaded
    },
    seed(list) {
      // A second connection to the same file (WAL): the repository has no transactions to lend.
      const client = new Database(dbPath)
      try {
        client.run('PRAGMA busy_timeout = 5000')
        client.run('PRAGMA foreign_keys = ON')
        const db = drizzle(client)
        db.transaction((tx) => {
          // A few hundred rows per statement stay well under SQLite's limit on bound values.
          for (let start = 0; start < list.length; start += 500) {
            tx.insert(pictureTable)
              .values(list.slice(start, start + 500).map(fromPicture))
              .run()
          }
        })
      } finally {
        client.close()
      }
    },
    close() {
      repo.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
