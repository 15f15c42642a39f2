/**
 * The command line as a developer first meets it: `serve` on an empty data directory generates
 * credentials, says where they are, and never prints the secret (terminal output ends up in logs).
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { spawnServe } from './support/binary.ts'

const root = resolve(import.meta.dir, '..')
const dir = mkdtempSync(join(tmpdir(), 'headshot-main-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('first start in development: the key and the file are shown, the secret is not', async () => {
  const dataDir = join(dir, 'data')
  const { child, started: output } = await spawnServe({ HOME: dir, HEADSHOT_DATA_DIR: dataDir }, { stderr: 'pipe' })
  child.kill('SIGTERM')
  await child.exited
  const { apiKey, apiSecret } = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'))
  expect(output).toContain('listening')
  expect(output).toContain(`HEADSHOT_API_KEY=${apiKey}`)
  expect(output).toContain(join(dataDir, 'credentials.json'))
  expect(output).not.toContain(apiSecret)
}, 30_000)

test('with HEADSHOT_PORT=0 the chosen port is printed even when the log level hides info lines', async () => {
  const { child, port } = await spawnServe(
    { HOME: dir, HEADSHOT_DATA_DIR: join(dir, 'quiet'), HEADSHOT_LOG_LEVEL: 'warn' },
    { stderr: 'pipe', timeoutMs: 15_000 },
  )
  child.kill('SIGTERM')
  await child.exited
  expect(port).toBeGreaterThan(0)
}, 30_000)

test('headshot backup writes a consistent, private copy of the database while it is in use', async () => {
  const dataDir = join(dir, 'backed-up')
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, HEADSHOT_DATA_DIR: dataDir }
  // A database with a row in it, held open (WAL) by a repository, as a running server would.
  const { openSqliteRepository } = await import('../src/store/sqlite.ts')
  const { mkdirSync, statSync } = await import('node:fs')
  mkdirSync(dataDir, { recursive: true })
  const repo = openSqliteRepository(join(dataDir, 'headshot.db'))
  const { picture } = await import('./support/store-fixtures.ts')
  await repo.putPicture(picture({ publicId: 'kept' }))
  try {
    const target = join(dir, 'copy.db')
    const child = Bun.spawnSync([process.execPath, 'src/main.ts', 'backup', target], { cwd: root, env })
    expect(new TextDecoder().decode(child.stderr)).toBe('')
    expect(child.exitCode).toBe(0)
    expect(statSync(target).mode & 0o777).toBe(0o600)
    const copy = openSqliteRepository(target)
    try {
      expect((await copy.getPicture('facebook', 'kept'))?.publicId).toBe('kept')
    } finally {
      copy.close()
    }
  } finally {
    repo.close()
  }
})

test('headshot gc prints what it would free, then frees it: orphans, temp files, rows without bytes', async () => {
  const dataDir = join(dir, 'collected')
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, HEADSHOT_DATA_DIR: dataDir }
  const { openSqliteRepository } = await import('../src/store/sqlite.ts')
  const { createDiskBlobStore } = await import('../src/store/blobs.ts')
  const { existsSync, mkdirSync, utimesSync, writeFileSync } = await import('node:fs')
  const { picture, derivative } = await import('./support/store-fixtures.ts')
  mkdirSync(dataDir, { recursive: true })
  const repo = openSqliteRepository(join(dataDir, 'headshot.db'))
  const blobs = createDiskBlobStore(join(dataDir, 'blobs'))
  const twoHoursAgo = (Date.now() - 2 * 3_600_000) / 1000
  // What a crash leaves: a blob written without its row, half a temp file; and a derived image whose bytes were lost.
  const original = await blobs.put(new Uint8Array(300).fill(1))
  await repo.putPicture(picture({ contentHash: original, bytes: 300 }))
  await repo.putDerivative(derivative({ contentHash: 'e'.repeat(64), bytes: 40 }))
  const orphan = await blobs.put(new Uint8Array(1000).fill(2))
  const temp = join(blobs.dir, orphan.slice(0, 2), orphan.slice(2, 4), `.${orphan}.9.aaaaaaaaaaaa.tmp`)
  writeFileSync(temp, new Uint8Array(500))
  for (const path of [blobs.pathFor(original), blobs.pathFor(orphan), temp]) utimesSync(path, twoHoursAgo, twoHoursAgo)
  const run = (...args: string[]) => {
    const child = Bun.spawnSync([process.execPath, 'src/main.ts', 'gc', ...args], { cwd: root, env })
    expect(new TextDecoder().decode(child.stderr)).toBe('')
    expect(child.exitCode).toBe(0)
    return new TextDecoder().decode(child.stdout)
  }
  try {
    const dry = run('--dry-run')
    expect(dry).toContain('(dry run: nothing deleted)')
    expect(dry).toContain('temp files: 1 to remove, 500 bytes')
    expect(dry).toContain('orphan blobs: 1 to remove, 1000 bytes')
    expect(dry).toContain('missing blobs: 1 of derived images (their rows to remove), 0 of originals')
    expect(dry).toContain('store: 340 bytes (340 B) in 2 blobs')
    expect(existsSync(blobs.pathFor(orphan))).toBe(true)

    const done = run()
    expect(done).toContain('temp files: 1 removed, 500 bytes')
    expect(done).toContain('orphan blobs: 1 removed, 1000 bytes')
    expect(done).toContain('missing blobs: 1 of derived images (1 rows removed)')
    expect(done).toContain('store bound: none')
    expect(done).toContain('store: 300 bytes (300 B) in 1 blobs')
    expect(existsSync(blobs.pathFor(orphan))).toBe(false)
    expect(existsSync(temp)).toBe(false)
    expect(existsSync(blobs.pathFor(original))).toBe(true)
    expect(await repo.listDerivatives('facebook', '65646572251')).toEqual([])
    expect(run()).toContain('orphan blobs: 0 removed, 0 bytes')
  } finally {
    repo.close()
  }
})

test('headshot gc with a bound evicts down to it, and refuses unknown arguments', async () => {
  const dataDir = join(dir, 'bounded')
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, HEADSHOT_DATA_DIR: dataDir }
  const { openSqliteRepository } = await import('../src/store/sqlite.ts')
  const { createDiskBlobStore } = await import('../src/store/blobs.ts')
  const { mkdirSync } = await import('node:fs')
  const { picture, derivative } = await import('./support/store-fixtures.ts')
  mkdirSync(dataDir, { recursive: true })
  const repo = openSqliteRepository(join(dataDir, 'headshot.db'))
  const blobs = createDiskBlobStore(join(dataDir, 'blobs'))
  await repo.putPicture(picture({ contentHash: await blobs.put(new Uint8Array(1000).fill(1)), bytes: 1000 }))
  for (let i = 0; i < 3; i++) {
    const contentHash = await blobs.put(new Uint8Array(100).fill(10 + i))
    await repo.putDerivative(derivative({ key: `w_${i}/jpg`, contentHash, bytes: 100, lastServedAt: 1_000 + i }))
  }
  try {
    const child = Bun.spawnSync([process.execPath, 'src/main.ts', 'gc'], {
      cwd: root,
      env: { ...env, HEADSHOT_MAX_STORE_BYTES: '1.25kB' },
    })
    expect(child.exitCode).toBe(0)
    expect(new TextDecoder().decode(child.stdout)).toContain(
      'store bound: 1250 bytes (1.3 kB): 2 derived images and 0 originals evicted, 200 bytes (200 B)',
    )
    expect((await repo.listDerivatives('facebook', '65646572251')).map((d) => d.key)).toEqual(['w_2/jpg'])
    const wrong = Bun.spawnSync([process.execPath, 'src/main.ts', 'gc', '--force'], { cwd: root, env })
    expect(wrong.exitCode).toBe(2)
    expect(new TextDecoder().decode(wrong.stderr)).toContain('usage: headshot gc [--dry-run]')
  } finally {
    repo.close()
  }
})

test('with PostgreSQL, headshot backup refuses and points to pg_dump, never echoing the URL', () => {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    HEADSHOT_DATA_DIR: join(dir, 'pg'),
    HEADSHOT_DATABASE_URL: 'postgres://headshot:pw-not-shown-7@db.invalid:5432/headshot',
  }
  const child = Bun.spawnSync([process.execPath, 'src/main.ts', 'backup', join(dir, 'pg-copy.db')], { cwd: root, env })
  const stderr = new TextDecoder().decode(child.stderr)
  expect(child.exitCode).toBe(1)
  expect(stderr).toContain('pg_dump')
  expect(stderr).not.toContain('pw-not-shown-7')
})

test('a HEADSHOT_DATABASE_URL that is not PostgreSQL stops the start, naming the variable, not the value', () => {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    HEADSHOT_DATA_DIR: join(dir, 'bad-url'),
    HEADSHOT_DATABASE_URL: 'mysql://root:pw-not-shown-8@db/headshot',
  }
  const child = Bun.spawnSync([process.execPath, 'src/main.ts', 'serve'], { cwd: root, env })
  const stderr = new TextDecoder().decode(child.stderr)
  expect(child.exitCode).toBe(1)
  expect(stderr).toContain('HEADSHOT_DATABASE_URL')
  expect(stderr).not.toContain('pw-not-shown-8')
})

test('a PostgreSQL that cannot be reached stops the start (exit 1) before listening, the password unsaid', () => {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    HEADSHOT_DATA_DIR: join(dir, 'pg-down'),
    HEADSHOT_PORT: '0',
    HEADSHOT_HOST: '127.0.0.1',
    HEADSHOT_DATABASE_URL: 'postgres://headshot:pw-not-shown-9@127.0.0.1:1/headshot',
  }
  const child = Bun.spawnSync([process.execPath, 'src/main.ts', 'serve'], { cwd: root, env, timeout: 20_000 })
  const output = new TextDecoder().decode(child.stdout) + new TextDecoder().decode(child.stderr)
  expect(child.exitCode).toBe(1)
  expect(output).toContain('database postgresql unavailable')
  expect(output).not.toContain('listening')
  expect(output).not.toContain('pw-not-shown-9')
}, 30_000)
