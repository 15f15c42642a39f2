/**
 * The command line as a developer first meets it: `serve` on an empty data directory generates
 * credentials, says where they are, and never prints the secret (terminal output ends up in logs).
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dir, '..')
const dir = mkdtempSync(join(tmpdir(), 'headshot-main-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('first start in development: the key and the file are shown, the secret is not', async () => {
  const dataDir = join(dir, 'data')
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      HEADSHOT_DATA_DIR: dataDir,
      HEADSHOT_PORT: '0',
      HEADSHOT_HOST: '127.0.0.1',
      HEADSHOT_SWEEP_RATE: '0',
    },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let output = ''
  const reader = child.stdout.getReader()
  const deadline = Date.now() + 20_000
  while (!output.includes('listening') && Date.now() < deadline) {
    const chunk = await Promise.race([reader.read(), Bun.sleep(deadline - Date.now()).then(() => undefined)])
    if (!chunk || chunk.done) break
    output += new TextDecoder().decode(chunk.value)
  }
  child.kill('SIGTERM')
  await child.exited
  const { apiKey, apiSecret } = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'))
  expect(output).toContain('listening')
  expect(output).toContain(`HEADSHOT_API_KEY=${apiKey}`)
  expect(output).toContain(join(dataDir, 'credentials.json'))
  expect(output).not.toContain(apiSecret)
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
