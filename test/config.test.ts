import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { builtinPlugins } from '../plugins/index.ts'
import { ConfigError, configTable, loadConfig, parseByteSize, parseDuration } from '../src/config.ts'
import { resolveRestrictedTypes } from '../src/app.ts'
import { networkTable } from '../src/plugin-host/network-table.ts'
import { createPluginRegistry } from '../src/plugin-host/registry.ts'

const dirs: string[] = []
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'headshot-config-'))
  dirs.push(dir)
  return dir
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

describe('configuration from the environment', () => {
  test('defaults match docs/operations.md', async () => {
    const config = await loadConfig({ HEADSHOT_DATA_DIR: tempDir() })
    expect(config.port).toBe(8080)
    expect(config.host).toBe('0.0.0.0')
    expect(config.cloudName).toBe('local')
    expect(config.restrictedTypes).toBeUndefined() // each plugin's default
    expect(config.refreshTtlMs).toBe(7 * 86_400_000)
    expect(config.sweepCallsPerMinute).toBe(20)
    expect(config.placeholdersDir).toBe(join(config.dataDir, 'placeholders'))
    expect(config.production).toBe(false)
  })

  test('every variable is read and coerced', async () => {
    const config = await loadConfig({
      HEADSHOT_DATA_DIR: tempDir(),
      HEADSHOT_PORT: '0',
      HEADSHOT_HOST: '127.0.0.1',
      HEADSHOT_CLOUD_NAME: 'demo',
      HEADSHOT_API_KEY: '1234',
      HEADSHOT_API_SECRET: 'a-long-enough-secret',
      HEADSHOT_RESTRICTED_TYPES: 'none',
      HEADSHOT_REFRESH_TTL: '12h',
      HEADSHOT_SWEEP_RATE: '0',
    })
    expect(config.port).toBe(0)
    expect(config.host).toBe('127.0.0.1')
    expect(config.cloudName).toBe('demo')
    expect(config.apiKey).toBe('1234')
    expect(config.apiSecret).toBe('a-long-enough-secret')
    expect(config.restrictedTypes?.size).toBe(0)
    expect(config.refreshTtlMs).toBe(12 * 3_600_000)
    expect(config.sweepCallsPerMinute).toBe(0)
    expect(config.generatedCredentials).toBe(false)
  })

  test('invalid values fail with the variable name', async () => {
    const dir = tempDir()
    await expect(loadConfig({ HEADSHOT_DATA_DIR: dir, HEADSHOT_PORT: 'eighty' })).rejects.toThrow(/HEADSHOT_PORT/)
    await expect(loadConfig({ HEADSHOT_DATA_DIR: dir, HEADSHOT_PORT: '70000' })).rejects.toThrow(/HEADSHOT_PORT/)
    await expect(loadConfig({ HEADSHOT_DATA_DIR: dir, HEADSHOT_REFRESH_TTL: '7 days' })).rejects.toThrow(
      /HEADSHOT_REFRESH_TTL/,
    )
    await expect(loadConfig({ HEADSHOT_DATA_DIR: dir, HEADSHOT_CLOUD_NAME: 'a/b' })).rejects.toThrow(
      /HEADSHOT_CLOUD_NAME/,
    )
    for (const rate of ['-1', 'fast', '1.5']) {
      const config = loadConfig({ HEADSHOT_DATA_DIR: dir, HEADSHOT_SWEEP_RATE: rate })
      await expect(config).rejects.toThrow(/HEADSHOT_SWEEP_RATE/)
    }
    await expect(
      loadConfig({
        HEADSHOT_DATA_DIR: dir,
        HEADSHOT_API_KEY: 'k',
        HEADSHOT_API_SECRET: '',
        HEADSHOT_NEGATIVE_TTL: 'x',
      }),
    ).rejects.toThrow(/HEADSHOT_NEGATIVE_TTL/)
  })

  test('per-client limits, trusted proxies and the public URL', async () => {
    const dir = tempDir()
    const defaults = await loadConfig({ HEADSHOT_DATA_DIR: dir })
    expect(defaults).toMatchObject({ clientRatePerMinute: 120, clientBurst: 60, trustedProxies: [] })
    expect(defaults.publicUrl).toBeUndefined()
    const set = await loadConfig({
      HEADSHOT_DATA_DIR: dir,
      HEADSHOT_CLIENT_RATE: '0',
      HEADSHOT_CLIENT_BURST: '5',
      HEADSHOT_TRUSTED_PROXIES: '10.0.0.0/8, ::1',
      HEADSHOT_PUBLIC_URL: 'https://img.example.com:8443/avatars/',
    })
    expect(set).toMatchObject({ clientRatePerMinute: 0, clientBurst: 5 })
    expect(set.trustedProxies.map((block) => block.prefix)).toEqual([8, 128])
    expect(set.publicUrl).toEqual({ host: 'img.example.com:8443', pathPrefix: '/avatars' })
    expect((await loadConfig({ HEADSHOT_DATA_DIR: dir, HEADSHOT_PUBLIC_URL: 'http://x.example' })).publicUrl).toEqual({
      host: 'x.example',
      pathPrefix: '',
    })

    const refused = (env: Record<string, string>, name: RegExp) =>
      expect(loadConfig({ HEADSHOT_DATA_DIR: dir, ...env })).rejects.toThrow(name)
    await refused({ HEADSHOT_CLIENT_RATE: '-1' }, /HEADSHOT_CLIENT_RATE/)
    await refused({ HEADSHOT_CLIENT_BURST: '0' }, /HEADSHOT_CLIENT_BURST/)
    await refused(
      { HEADSHOT_TRUSTED_PROXIES: '10.0.0.0/8, proxy.internal' },
      /HEADSHOT_TRUSTED_PROXIES: "proxy.internal"/,
    )
    for (const url of [
      'img.example.com',
      'https://img.example.com/?x=1',
      'https://img.example.com/#a',
      'https://u:p@x.example',
    ])
      await refused({ HEADSHOT_PUBLIC_URL: url }, /HEADSHOT_PUBLIC_URL/)
  })

  test('development generates credentials once, keeps them private, and reuses them', async () => {
    const dir = tempDir()
    const first = await loadConfig({ HEADSHOT_DATA_DIR: dir })
    expect(first.generatedCredentials).toBe(true)
    expect(first.apiSecret.length).toBeGreaterThanOrEqual(32)
    const file = join(dir, 'credentials.json')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(file, 'utf8')).apiSecret).toBe(first.apiSecret)
    const second = await loadConfig({ HEADSHOT_DATA_DIR: dir })
    expect(second.generatedCredentials).toBe(false)
    expect(second.apiSecret).toBe(first.apiSecret)
    expect(second.apiKey).toBe(first.apiKey)
  })

  test('a data directory it creates is for this user only (it holds the secret, the database, every picture)', async () => {
    const dir = join(tempDir(), 'fresh', 'data')
    await loadConfig({ HEADSHOT_DATA_DIR: dir })
    expect(statSync(dir).mode & 0o777).toBe(0o700)
  })

  test('production refuses to start without explicit secrets', async () => {
    const dir = tempDir()
    await expect(loadConfig({ HEADSHOT_DATA_DIR: dir, NODE_ENV: 'production' })).rejects.toThrow(ConfigError)
    const config = await loadConfig({
      HEADSHOT_DATA_DIR: dir,
      NODE_ENV: 'production',
      HEADSHOT_API_KEY: 'k',
      HEADSHOT_API_SECRET: 'production-secret-123',
    })
    expect(config.production).toBe(true)
    expect(config.warnings).toEqual([])
    // A short secret makes every signature guessable: production refuses it outright.
    await expect(
      loadConfig({
        HEADSHOT_DATA_DIR: dir,
        NODE_ENV: 'production',
        HEADSHOT_API_KEY: 'k',
        HEADSHOT_API_SECRET: 'abcd',
      }),
    ).rejects.toThrow(/HEADSHOT_API_SECRET must be at least 16 characters/)
  })

  test('durations accept s, m, h, d and ms', () => {
    expect(parseDuration('30s')).toBe(30_000)
    expect(parseDuration('15m')).toBe(900_000)
    expect(parseDuration('250ms')).toBe(250)
    expect(() => parseDuration('1w')).toThrow()
  })

  test('sizes: a number of bytes, or decimal (kB, MB, GB, TB) and binary (KiB … TiB) units in any case', () => {
    expect(parseByteSize('1000')).toBe(1000)
    expect(parseByteSize('500MB')).toBe(500_000_000)
    expect(parseByteSize('500mb')).toBe(500_000_000)
    expect(parseByteSize('2GiB')).toBe(2 * 1024 ** 3)
    expect(parseByteSize('1.5 GB')).toBe(1_500_000_000)
    expect(parseByteSize('64KiB')).toBe(65_536)
    for (const bad of ['1e9', '-5', '5PB', 'MB', '']) expect(() => parseByteSize(bad)).toThrow(/Invalid size/)
  })

  test('the store bound: unset is unbounded; a size is read with its unit; nonsense and 0 stop start-up', async () => {
    const dir = tempDir()
    expect((await loadConfig({ HEADSHOT_DATA_DIR: dir })).maxStoreBytes).toBeUndefined()
    expect((await loadConfig({ HEADSHOT_DATA_DIR: dir, HEADSHOT_MAX_STORE_BYTES: '2GiB' })).maxStoreBytes).toBe(
      2 * 1024 ** 3,
    )
    for (const bad of ['lots', '2 gigabytes', '0']) {
      await expect(loadConfig({ HEADSHOT_DATA_DIR: dir, HEADSHOT_MAX_STORE_BYTES: bad })).rejects.toThrow(
        /HEADSHOT_MAX_STORE_BYTES/,
      )
    }
  })

  test('the database: unset is SQLite; postgres:// or postgresql:// is PostgreSQL; anything else stops start-up unechoed', async () => {
    const dir = tempDir()
    expect((await loadConfig({ HEADSHOT_DATA_DIR: dir })).databaseUrl).toBeUndefined()
    for (const url of ['postgres://u:p@db:5432/headshot', 'postgresql://db/headshot']) {
      expect((await loadConfig({ HEADSHOT_DATA_DIR: dir, HEADSHOT_DATABASE_URL: url })).databaseUrl).toBe(url)
    }
    for (const bad of [
      'mysql://u:hunter2-secret@db/x',
      'u:hunter2-secret@db',
      'postgres://u:hunter2-secret@db:port/x',
    ]) {
      const attempt = loadConfig({ HEADSHOT_DATA_DIR: dir, HEADSHOT_DATABASE_URL: bad })
      await expect(attempt).rejects.toThrow(ConfigError)
      await expect(attempt).rejects.toThrow(/^HEADSHOT_DATABASE_URL /)
      const message = await attempt.catch((error: Error) => error.message)
      expect(message).not.toContain('hunter2')
    }
  })

  test('the documented table is generated from the schema', () => {
    const table = configTable()
    for (const name of ['HEADSHOT_PORT', 'HEADSHOT_DATA_DIR', 'HEADSHOT_RESTRICTED_TYPES', 'HEADSHOT_REFRESH_TTL']) {
      expect(table).toContain(`\`${name}\``)
    }
  })
})

describe('S3 storage settings', () => {
  const S3 = {
    HEADSHOT_S3_ENDPOINT: 'http://127.0.0.1:7480',
    HEADSHOT_S3_BUCKET: 'pictures',
    HEADSHOT_S3_REGION: 'us-east-1',
    HEADSHOT_S3_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    HEADSHOT_S3_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  }

  test('unset: images stay on disk', async () => {
    expect((await loadConfig({ HEADSHOT_DATA_DIR: tempDir() })).s3).toBeUndefined()
  })

  test('all five: S3, with an optional prefix', async () => {
    const config = await loadConfig({ HEADSHOT_DATA_DIR: tempDir(), ...S3, HEADSHOT_S3_PREFIX: 'headshot/' })
    expect(config.s3).toEqual({
      endpoint: 'http://127.0.0.1:7480',
      bucket: 'pictures',
      region: 'us-east-1',
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      prefix: 'headshot/',
      timeoutMs: 5000,
    })
    expect((await loadConfig({ HEADSHOT_DATA_DIR: tempDir(), ...S3 })).s3?.prefix).toBe('')
  })

  test('HEADSHOT_S3_TIMEOUT: 5 s by default, a duration of at least 100 ms', async () => {
    const timeout = async (value: string) =>
      (await loadConfig({ HEADSHOT_DATA_DIR: tempDir(), ...S3, HEADSHOT_S3_TIMEOUT: value })).s3?.timeoutMs
    expect(await timeout('')).toBe(5000)
    expect(await timeout('1500ms')).toBe(1500)
    expect(await timeout('30s')).toBe(30_000)
    await expect(timeout('0s')).rejects.toThrow('HEADSHOT_S3_TIMEOUT must be at least 100ms')
    await expect(timeout('5')).rejects.toThrow(/HEADSHOT_S3_TIMEOUT/)
  })

  test('HEADSHOT_S3_REDIRECT_BYTES: off unless set, a size, only with S3; HEADSHOT_S3_PUBLIC_ENDPOINT only with it', async () => {
    const load = (env: Record<string, string>) => loadConfig({ HEADSHOT_DATA_DIR: tempDir(), ...env })
    expect((await load(S3)).s3RedirectBytes).toBeUndefined()
    expect((await load({ ...S3, HEADSHOT_S3_REDIRECT_BYTES: '512kB' })).s3RedirectBytes).toBe(512_000)
    expect((await load({ ...S3, HEADSHOT_S3_REDIRECT_BYTES: '2MiB' })).s3RedirectBytes).toBe(2 * 1024 * 1024)
    const withPublic = await load({
      ...S3,
      HEADSHOT_S3_REDIRECT_BYTES: '1MB',
      HEADSHOT_S3_PUBLIC_ENDPOINT: 'https://s3.example.com',
    })
    expect(withPublic.s3?.publicEndpoint).toBe('https://s3.example.com')
    expect(withPublic.s3?.endpoint).toBe('http://127.0.0.1:7480')
    await expect(load({ HEADSHOT_S3_REDIRECT_BYTES: '1MB' })).rejects.toThrow(
      'HEADSHOT_S3_REDIRECT_BYTES needs S3 storage',
    )
    await expect(load({ ...S3, HEADSHOT_S3_REDIRECT_BYTES: '0' })).rejects.toThrow(/at least 1 byte/)
    await expect(load({ ...S3, HEADSHOT_S3_REDIRECT_BYTES: 'lots' })).rejects.toThrow(/HEADSHOT_S3_REDIRECT_BYTES/)
    await expect(load({ ...S3, HEADSHOT_S3_PUBLIC_ENDPOINT: 'https://s3.example.com' })).rejects.toThrow(
      'HEADSHOT_S3_PUBLIC_ENDPOINT is set but HEADSHOT_S3_REDIRECT_BYTES is not',
    )
    await expect(
      load({ ...S3, HEADSHOT_S3_REDIRECT_BYTES: '1MB', HEADSHOT_S3_PUBLIC_ENDPOINT: 's3.example.com' }),
    ).rejects.toThrow(/HEADSHOT_S3_PUBLIC_ENDPOINT/)
  })

  test('some but not all: refused at start, naming each one missing (and never a value)', async () => {
    const { HEADSHOT_S3_REGION: _region, HEADSHOT_S3_ACCESS_KEY_ID: _id, ...partial } = S3
    const refused = loadConfig({ HEADSHOT_DATA_DIR: tempDir(), ...partial })
    await expect(refused).rejects.toBeInstanceOf(ConfigError)
    await expect(refused).rejects.toThrow(
      'S3 storage needs HEADSHOT_S3_REGION, HEADSHOT_S3_ACCESS_KEY_ID too (or unset every HEADSHOT_S3_* to store on disk)',
    )
    await expect(loadConfig({ HEADSHOT_DATA_DIR: tempDir(), HEADSHOT_S3_PREFIX: 'x/' })).rejects.toThrow(
      /HEADSHOT_S3_PREFIX is set but HEADSHOT_S3_ENDPOINT is not/,
    )
    await expect(
      loadConfig({ HEADSHOT_DATA_DIR: tempDir(), ...S3, HEADSHOT_S3_ENDPOINT: 'ftp://example.com' }),
    ).rejects.toThrow(/HEADSHOT_S3_ENDPOINT/)
  })
})

describe('docs/operations.md', () => {
  const doc = () => Bun.file(join(import.meta.dir, '..', 'docs', 'operations.md')).text()

  test('documents every configuration variable', async () => {
    const text = await doc()
    for (const line of configTable().split('\n').slice(2)) {
      const name = line.match(/`([A-Z0-9_]+)`/)![1]!
      expect(text).toContain(`\`${name}\``)
    }
  })

  test('holds the configuration table exactly as configTable() prints it', async () => {
    // Regenerate with: bun -e "import { configTable } from './src/config.ts'; console.log(configTable())"
    expect(await doc()).toContain(configTable())
  })

  test('documents every variable the built-in plugins read', async () => {
    const text = await doc()
    for (const plugin of builtinPlugins) {
      for (const schema of Object.values(plugin.settings.properties) as Array<{ env?: string }>) {
        if (schema.env === undefined) continue
        expect({ variable: schema.env, documented: text.includes(`\`${schema.env}\``) }).toEqual({
          variable: schema.env,
          documented: true,
        })
      }
    }
  })
})

describe('restricted types', () => {
  const registry = createPluginRegistry(builtinPlugins, {}, () => ({}) as never)

  test('unset: the types whose plugin restricts them by default', () => {
    expect([...resolveRestrictedTypes(undefined, registry)].sort()).toEqual([
      'facebook',
      'mastodon',
      'twitter',
      'twitter_name',
    ])
  })

  test('set: exactly the named types, each checked against the loaded plugins', () => {
    expect([...resolveRestrictedTypes(new Set(['gravatar']), registry)]).toEqual(['gravatar'])
    expect(resolveRestrictedTypes(new Set(), registry).size).toBe(0)
    expect(() => resolveRestrictedTypes(new Set(['facebok']), registry)).toThrow(
      /HEADSHOT_RESTRICTED_TYPES: unknown delivery type "facebok" \(loaded: facebook, twitter, twitter_name, gravatar[,)]/,
    )
  })
})

describe('README: the list of networks', () => {
  test('is the table the plugins declare (type, id syntax and example, signing, credentials)', async () => {
    const readme = await Bun.file(join(import.meta.dir, '..', 'README.md')).text()
    expect(readme).toContain(networkTable(builtinPlugins))
  })
})

describe('work limits', () => {
  test('the defaults are the pipeline defaults; unsigned steps and upscaling come from the environment', async () => {
    const { DEFAULT_WORK_BUDGETS } = await import('../src/image/budget.ts')
    expect((await loadConfig({ HEADSHOT_DATA_DIR: tempDir() })).workBudgets).toEqual(DEFAULT_WORK_BUDGETS)
    const config = await loadConfig({
      HEADSHOT_DATA_DIR: tempDir(),
      HEADSHOT_MAX_WORK: '1000',
      HEADSHOT_MAX_WORK_UNSIGNED: '50',
      HEADSHOT_MAX_STEPS_UNSIGNED: '3',
      HEADSHOT_MAX_UPSCALE_UNSIGNED: '0',
    })
    expect(config.workBudgets.signed.maxWork).toBe(1000)
    expect(config.workBudgets.unsigned).toEqual({
      name: 'unsigned',
      maxWork: 50,
      maxSteps: 3,
      maxUpscale: Number.POSITIVE_INFINITY,
    })
    await expect(loadConfig({ HEADSHOT_DATA_DIR: tempDir(), HEADSHOT_MAX_STEPS_UNSIGNED: '21' })).rejects.toThrow(
      /HEADSHOT_MAX_STEPS_UNSIGNED/,
    )
    await expect(loadConfig({ HEADSHOT_DATA_DIR: tempDir(), HEADSHOT_MAX_WORK_UNSIGNED: '0' })).rejects.toThrow(
      /HEADSHOT_MAX_WORK_UNSIGNED/,
    )
  })
})

describe('workers', () => {
  test('deadline, count and memory: defaults leave the pool to size itself', async () => {
    const defaults = await loadConfig({ HEADSHOT_DATA_DIR: tempDir() })
    expect(defaults.deriveTimeoutMs).toBe(20_000)
    expect(defaults.workers).toBeUndefined()
    expect(defaults.workerMemoryBytes).toBeUndefined()
    const set = await loadConfig({
      HEADSHOT_DATA_DIR: tempDir(),
      HEADSHOT_DERIVE_TIMEOUT: '5s',
      HEADSHOT_WORKERS: '3',
      HEADSHOT_WORKER_MEMORY_MB: '2048',
    })
    expect([set.deriveTimeoutMs, set.workers, set.workerMemoryBytes]).toEqual([5000, 3, 2048 * 1024 * 1024])
    await expect(loadConfig({ HEADSHOT_DATA_DIR: tempDir(), HEADSHOT_WORKERS: '-1' })).rejects.toThrow(
      /HEADSHOT_WORKERS/,
    )
  })

  test('the image caches: 96 MB unless HEADSHOT_CACHE_MB says otherwise, 0 for none', async () => {
    const cache = async (value?: string) =>
      (await loadConfig({ HEADSHOT_DATA_DIR: tempDir(), HEADSHOT_CACHE_MB: value })).cacheBytes
    expect(await cache()).toBe(96_000_000)
    expect(await cache('24')).toBe(24_000_000)
    expect(await cache('0')).toBe(0)
    for (const bad of ['-1', '1.5', '64MB']) await expect(cache(bad)).rejects.toThrow(/HEADSHOT_CACHE_MB/)
  })

  test('recycling: auto (from the memory and count), a number of MB, or off', async () => {
    const recycle = async (value?: string) =>
      (await loadConfig({ HEADSHOT_DATA_DIR: tempDir(), HEADSHOT_WORKER_RECYCLE_MB: value })).workerRecycleBytes
    expect(await recycle()).toBeUndefined()
    expect(await recycle('auto')).toBeUndefined()
    expect(await recycle('96')).toBe(96 * 1024 * 1024)
    expect(await recycle('off')).toBe(Number.POSITIVE_INFINITY)
    for (const bad of ['-1', '1.5', 'never', '64MB'])
      await expect(recycle(bad)).rejects.toThrow(/HEADSHOT_WORKER_RECYCLE_MB/)
  })
})
