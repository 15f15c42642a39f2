/**
 * What every dialect's embedded migrations must satisfy (SQLite: src/store/migrations.gen.ts,
 * PostgreSQL: src/store/migrations-pg.gen.ts): the binary carries every .sql file of the folder,
 * byte for byte, and reads them exactly as drizzle's own migrator would from disk.
 */
import { expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { readMigrationFiles } from 'drizzle-orm/migrator'

export function specifyEmbeddedMigrations(
  folder: string,
  sqlFiles: Record<string, string>,
  embedded: () => Array<{ tag: string } & ReturnType<typeof readMigrationFiles>[number]>,
): void {
  test(`embed every .sql file in ${folder.slice(folder.indexOf('src/'))}/, byte for byte (run \`npm run db:generate\` if this fails)`, () => {
    const onDisk = readdirSync(folder)
      .filter((f) => f.endsWith('.sql'))
      .sort()
    expect(
      Object.keys(sqlFiles)
        .map((tag) => `${tag}.sql`)
        .sort(),
    ).toEqual(onDisk)
    for (const file of onDisk)
      expect(sqlFiles[file.replace(/\.sql$/, '')]).toBe(readFileSync(join(folder, file), 'utf8'))
  })

  test("match drizzle's readMigrationFiles() exactly: statements, breakpoints, timestamps and hashes", () => {
    const stripped = embedded().map(({ tag: _tag, ...meta }) => meta)
    expect(stripped).toEqual(readMigrationFiles({ migrationsFolder: folder }))
  })
}
