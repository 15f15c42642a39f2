/** The operations settings: the log level, and the shutdown's delay and deadline. */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFakeGravatar } from '../../plugins/gravatar/fake.ts'
import { loadConfig } from '../../src/config.ts'
import { startHeadshot } from '../support/headshot.ts'

const dir = mkdtempSync(join(tmpdir(), 'headshot-ops-settings-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('from the environment', () => {
  test('defaults: info, no delay, 10 s for requests under way', async () => {
    const config = await loadConfig({ HEADSHOT_DATA_DIR: dir })
    expect([config.logLevel, config.shutdownDelayMs, config.shutdownTimeoutMs]).toEqual(['info', 0, 10_000])
  })

  test('read and coerced', async () => {
    const config = await loadConfig({
      HEADSHOT_DATA_DIR: dir,
      HEADSHOT_LOG_LEVEL: 'warn',
      HEADSHOT_SHUTDOWN_DELAY: '5s',
      HEADSHOT_SHUTDOWN_TIMEOUT: '2m',
    })
    expect([config.logLevel, config.shutdownDelayMs, config.shutdownTimeoutMs]).toEqual(['warn', 5_000, 120_000])
  })

  test('refused with the variable named', async () => {
    for (const [variable, value] of [
      ['HEADSHOT_LOG_LEVEL', 'verbose'],
      ['HEADSHOT_LOG_LEVEL', 'INFO'],
      ['HEADSHOT_SHUTDOWN_DELAY', '5'],
      ['HEADSHOT_SHUTDOWN_TIMEOUT', 'ten seconds'],
    ] as const) {
      await expect(loadConfig({ HEADSHOT_DATA_DIR: dir, [variable]: value })).rejects.toThrow(variable)
    }
  })
})

test('HEADSHOT_LOG_LEVEL filters what the server writes: warn keeps upstream failures, drops access lines', async () => {
  const gravatar = startFakeGravatar()
  const levels: Record<string, string[]> = {}
  try {
    for (const level of ['info', 'warn', 'silent']) {
      const headshot = await startHeadshot({ ...gravatar.env, HEADSHOT_LOG_LEVEL: level })
      const hash = gravatar.addEmail(`${level}@example.com`).md5
      expect((await headshot.get(`/image/gravatar/${hash}.jpg`)).status).toBe(200)
      gravatar.modes.failure = 'server_error'
      expect((await headshot.get(`/image/gravatar/${'1'.repeat(32)}.jpg`)).status).toBe(502)
      gravatar.modes.failure = undefined
      levels[level] = headshot.logs.map((line) => `${line.level} ${line.msg === 'request' ? 'request' : 'other'}`)
      await headshot.close()
    }
  } finally {
    gravatar.stop()
  }
  expect(levels).toEqual({
    info: ['info request', 'warn other', 'info request'],
    warn: ['warn other'],
    silent: [],
  })
})
