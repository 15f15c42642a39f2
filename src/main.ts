#!/usr/bin/env bun
/**
 * CLI entry (also the compiled binary's): `headshot [serve]`, `headshot sign <url-path>`,
 * `headshot backup <file>`, `headshot gc [--dry-run]`, `headshot migrate [options]`, `headshot plugins`,
 * `headshot plugin init <name>`, `headshot --help`, `headshot --version`
 * (docs/operations.md, Command line; docs/plugins.md).
 */
import { Database } from 'bun:sqlite'
import { chmodSync, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import pkg from '../package.json' with { type: 'json' }
import { builtinPlugins } from '../plugins/index.ts'
import { createApp } from './app.ts'
import { type Config, ConfigError, databasePassword, loadConfig } from './config.ts'
import { createHttpClient } from './fetch/client.ts'
import { pluginDeclaration, pluginNameProblem, starterPlugin } from './plugin-host/authoring.ts'
import { loadDropInPlugins, refusedLine, type SourcedPlugin } from './plugin-host/dropin.ts'
import { createLogger, flushLogs } from './ops/log.ts'
import { listen, shutdown } from './ops/serve.ts'
import { createPluginRegistry } from './plugin-host/registry.ts'
import { isSecretSetting } from './plugin-host/settings.ts'
import { describeBlobStore, openBlobStore } from './store/open-blobs.ts'
import { createDiskBlobStore } from './store/blobs.ts'
import { type CopyMode, copyStore, copySucceeded, formatCopyReport } from './store/copy.ts'
import { pendingMigrations } from './store/migrate.ts'
import { openPostgresDatabase } from './store/postgres.ts'
import { collectGarbage, formatGcReport } from './store/gc.ts'
import { createStoreQuota } from './store/quota.ts'
import { openRepository } from './store/open.ts'
import { signDeliveryPath } from './url/signature.ts'
import { redactForLog } from './lib/redact.ts'

const HELP = `headshot ${pkg.version}: Cloudinary-compatible delivery of social profile pictures

Usage:
  headshot [serve]            run the server (configured by HEADSHOT_* environment variables)
  headshot sign <url-path>    print the path with a valid s--…-- signature for the configured secret
  headshot backup <file>      write a consistent copy of the database to <file> while the server runs
  headshot gc [--dry-run]     remove what crashes left in the store, expired answers, and evict down to
                              HEADSHOT_MAX_STORE_BYTES; prints what it freed (safe while the server runs)
  headshot migrate [--from <data dir>] [--dry-run | --verify-only] [--force]
                              copy a SQLite + disk instance into HEADSHOT_DATABASE_URL (PostgreSQL) and the
                              configured image store (HEADSHOT_S3_*), then verify it (headshot migrate --help)
  headshot plugins            list the loaded plugins (built-in and HEADSHOT_PLUGINS_DIR), their settings and hosts
  headshot plugin init <name> write <name>.ts (a starter plugin) and headshot-plugin.d.ts here
  headshot --help | --version

Quick start: HEADSHOT_RESTRICTED_TYPES=none headshot, then open
  http://localhost:8080/image/gravatar/c_fill,w_80,h_80/<md5-or-sha256-of-email>.jpg
`

export async function main(argv: string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv
  switch (command) {
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(HELP)
      return 0
    case '--version':
    case '-v':
      process.stdout.write(`${pkg.version}\n`)
      return 0
    case 'sign':
      return sign(rest)
    case 'backup':
      return backup(rest)
    case 'gc':
      return gc(rest)
    case 'migrate':
      return migrate(rest)
    case 'plugins':
      return listPlugins()
    case 'plugin':
      return pluginCommand(rest)
    case 'serve':
      return serve()
    default:
      process.stderr.write(`headshot: unknown command "${command}"\n\n${HELP}`)
      return 2
  }
}

async function sign(args: string[]): Promise<number> {
  const path = args[0]
  if (!path || args.length > 1) {
    process.stderr.write('usage: headshot sign <url-path>\n')
    return 2
  }
  const config = await loadConfig()
  const signed = signDeliveryPath(path, config.apiSecret, { bindType: config.signType })
  if (!signed.ok) {
    process.stderr.write(`headshot sign: ${signed.error.message}\n`)
    return 1
  }
  process.stdout.write(`${signed.value}\n`)
  return 0
}

/**
 * `headshot backup <file>`: SQLite's own consistent snapshot (`VACUUM INTO`), safe while the
 * server writes (WAL), written beside the target and renamed over it so a reader never sees half a
 * file. The pictures' bytes are plain files under `<data dir>/blobs` (copy them with any tool;
 * they are content-addressed, so a copy taken after the database copy has everything it names).
 */
async function backup(args: string[]): Promise<number> {
  const target = args[0]
  if (!target || args.length > 1) {
    process.stderr.write('usage: headshot backup <file>\n')
    return 2
  }
  const config = await loadConfig()
  if (config.databaseUrl !== undefined) {
    // The metadata is in PostgreSQL (HEADSHOT_DATABASE_URL): its own tools take consistent copies.
    process.stderr.write(
      'headshot backup: copies the SQLite database only; the metadata is in PostgreSQL (HEADSHOT_DATABASE_URL): ' +
        'use pg_dump (docs/operations.md, PostgreSQL)\n',
    )
    return 1
  }
  const source = join(config.dataDir, 'headshot.db')
  if (!existsSync(source)) {
    process.stderr.write(`headshot backup: no database at ${source}\n`)
    return 1
  }
  const destination = resolve(target)
  const partial = `${destination}.${process.pid}.partial`
  const db = new Database(source, { readonly: true })
  try {
    db.run('PRAGMA busy_timeout = 5000')
    db.query('VACUUM INTO ?1').run(partial)
  } catch (error) {
    rmSync(partial, { force: true })
    process.stderr.write(`headshot backup: ${(error as Error)?.message ?? error}\n`)
    return 1
  } finally {
    db.close()
  }
  chmodSync(partial, 0o600)
  renameSync(partial, destination)
  process.stdout.write(`headshot backup: ${destination}\n`)
  return 0
}

/**
 * `headshot gc [--dry-run]`: the server's hourly garbage collection, on demand, against the
 * configured data directory (src/store/gc.ts says why each step is safe beside a running server).
 */
async function gc(args: string[]): Promise<number> {
  const dryRun = args.includes('--dry-run')
  if (args.some((arg) => arg !== '--dry-run')) {
    process.stderr.write('usage: headshot gc [--dry-run]\n')
    return 2
  }
  const config = await loadConfig()
  if (config.databaseUrl === undefined && !existsSync(join(config.dataDir, 'headshot.db'))) {
    process.stderr.write(`headshot gc: no database in ${config.dataDir}\n`)
    return 1
  }
  const { repo, ready } = openRepository(config)
  try {
    await ready
    const blobs = openBlobStore(config).store
    const quota = createStoreQuota({ repo, blobs, maxBytes: config.maxStoreBytes, log: () => {} })
    const report = await collectGarbage({ repo, blobs, quota, negativeTtlMs: config.negativeTtlMs, dryRun })
    process.stdout.write(
      `headshot gc: ${config.dataDir}${config.s3 ? ` (images: ${describeBlobStore(config)})` : ''}${dryRun ? ' (dry run: nothing deleted)' : ''}\n${formatGcReport(report)}`,
    )
    return 0
  } catch (error) {
    process.stderr.write(
      `headshot gc: ${redactForLog((error as Error)?.message ?? String(error), [databasePassword(config.databaseUrl)])}\n`,
    )
    return 1
  } finally {
    await repo.close()
  }
}

const MIGRATE_HELP = `usage: headshot migrate [--from <data dir>] [--dry-run | --verify-only] [--force]

Copies an instance's SQLite database and image files (<data dir>/headshot.db and <data dir>/blobs)
into the PostgreSQL database of HEADSHOT_DATABASE_URL and the image store of HEADSHOT_S3_* (or
<HEADSHOT_DATA_DIR>/blobs without them), then verifies the copy: every picture, derived image and
face record compared column by column, every image read back and checked against its SHA-256.
Images go before the rows that name them; what the target already holds, identical, is left alone,
so an interrupted run can simply be run again. Progress goes to stderr, the summary to stdout.

  --from <dir>     the source data directory (default: HEADSHOT_DATA_DIR)
  --dry-run        compare and count what would be copied; write nothing but the target's schema
  --verify-only    copy nothing; compare the target with the source and read back every image
  --force          when target rows differ from the source's or the source lacks them: make the
                   target an exact copy (replace and delete them) instead of refusing

Stop the server first (or run it again after stopping it: the second run copies what changed,
with --force). Exit codes: 0 copied and verified (a dry run: a real run would go ahead), 1 refused,
verification failed or an error, 2 usage. Step by step: docs/operations.md, Moving to PostgreSQL and S3.
`

/**
 * `headshot migrate`: SQLite + disk → PostgreSQL + S3, verified (src/store/copy.ts). The source is
 * opened read-only; the target is configured as the server would be after the move.
 */
async function migrate(args: string[]): Promise<number> {
  let from: string | undefined
  let mode: CopyMode = 'copy'
  let force = false
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(MIGRATE_HELP)
      return 0
    }
    if (arg === '--from' && args[i + 1] !== undefined) from = args[++i]
    else if (arg.startsWith('--from=')) from = arg.slice('--from='.length)
    else if (arg === '--dry-run' && mode === 'copy') mode = 'dry-run'
    else if (arg === '--verify-only' && mode === 'copy') mode = 'verify-only'
    else if (arg === '--force') force = true
    else {
      process.stderr.write(MIGRATE_HELP)
      return 2
    }
  }
  const config = await loadConfig()
  const secrets = [databasePassword(config.databaseUrl), config.s3?.secretAccessKey ?? ''].filter(Boolean)
  const fail = (message: string) => {
    process.stderr.write(`headshot migrate: ${redactForLog(message, secrets)}\n`)
    return 1
  }
  if (config.databaseUrl === undefined) {
    return fail('HEADSHOT_DATABASE_URL is unset: name the PostgreSQL database to copy into (docs/operations.md)')
  }
  const sourceDir = resolve(from ?? config.dataDir)
  const sourceFile = join(sourceDir, 'headshot.db')
  if (!existsSync(sourceFile)) return fail(`no database at ${sourceFile} (--from names the source data directory)`)
  let sourceDb: Database
  try {
    sourceDb = new Database(sourceFile, { readonly: true })
    sourceDb.run('PRAGMA busy_timeout = 5000')
    const pending = pendingMigrations(sourceDb)
    if (pending.length > 0) {
      sourceDb.close()
      return fail(
        `the source database lacks migrations ${pending.join(', ')}: start this version's server on it once ` +
          '(or run headshot gc with HEADSHOT_DATA_DIR pointing at it), then migrate',
      )
    }
  } catch (error) {
    return fail(`cannot read ${sourceFile}: ${(error as Error)?.message ?? error}`)
  }
  // Written blobs are read back at once: the S3 store's put must not skip an existing object of the
  // right size (a damaged one is what it replaces), hence no refresh window.
  const targetBlobs = openBlobStore({
    dataDir: config.dataDir,
    s3: config.s3 ? { ...config.s3, refreshAfterMs: 0 } : undefined,
  }).store
  const target = `${describeDatabase(config.databaseUrl)} + ${describeBlobStore(config)}`
  process.stderr.write(`headshot migrate: ${sourceDir} (SQLite + disk) → ${target}\n`)
  let opened: Awaited<ReturnType<typeof openPostgresDatabase>> | undefined
  try {
    opened = await openPostgresDatabase(config.databaseUrl, { maxConnections: 4 }).catch((error: unknown) => {
      throw new Error(
        `cannot open the target database ${describeDatabase(config.databaseUrl!)}: ${(error as Error)?.message ?? error}`,
      )
    })
    const report = await copyStore(
      { db: sourceDb, blobs: createDiskBlobStore(join(sourceDir, 'blobs')) },
      { client: opened.client, blobs: targetBlobs },
      { mode, force, progress: (line) => process.stderr.write(`headshot migrate: ${redactForLog(line, secrets)}\n`) },
    )
    process.stdout.write(
      `headshot migrate: ${sourceDir} → ${target}${mode === 'copy' ? '' : ` (${mode})`}\n${formatCopyReport(report)}`,
    )
    return copySucceeded(report) ? 0 : 1
  } catch (error) {
    return fail((error as Error)?.message ?? String(error))
  } finally {
    sourceDb.close()
    await opened?.repo.close()
  }
}

/** `postgresql://host:port/database`: where, without the user or the password. */
function describeDatabase(url: string): string {
  try {
    const parsed = new URL(url)
    return `postgresql://${parsed.host}${parsed.pathname}`
  } catch {
    return 'PostgreSQL'
  }
}

/** Built-ins, then the drop-in files that load; each refused file is reported (default: on stderr), naming it. */
async function loadPlugins(
  config: Config,
  report: (line: string) => void = (line) => process.stderr.write(`headshot: ${line}\n`),
): Promise<SourcedPlugin[]> {
  const dropIns = await loadDropInPlugins(
    config.pluginsDir,
    builtinPlugins.map((plugin) => plugin.type),
    process.env,
  )
  for (const refused of dropIns.refused) report(refusedLine(refused))
  return [...builtinPlugins.map((plugin) => ({ plugin, source: 'built-in' })), ...dropIns.plugins]
}

async function listPlugins(): Promise<number> {
  const config = await loadConfig()
  const plugins = await loadPlugins(config)
  const registry = createPluginRegistry(
    plugins.map((sourced) => sourced.plugin),
    process.env,
    (scope) => createHttpClient(scope),
  )
  const lines: string[] = []
  for (const { plugin, source } of plugins) {
    const loaded = registry.get(plugin.type)!
    lines.push(`${plugin.type} (${source})`)
    lines.push(`  id: ${plugin.id.syntax}, e.g. ${plugin.id.example}`)
    lines.push(`  restricted by default: ${plugin.restrictedByDefault ? 'yes' : 'no'}`)
    lines.push(`  hosts: ${plugin.hosts.join(', ') || 'none'}`)
    const settings = Object.entries(plugin.settings.properties)
    lines.push(`  settings:${settings.length === 0 ? ' none' : ''}`)
    for (const [name, schema] of settings) {
      const variable = typeof schema.env === 'string' ? schema.env : name
      const value = loaded.settings[name]
      const shown = value === undefined ? '(unset)' : isSecretSetting(name, variable) ? '****' : String(value)
      lines.push(`    ${variable} = ${shown}`)
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`)
  return 0
}

async function pluginCommand(args: string[]): Promise<number> {
  const [subcommand, name, ...extra] = args
  if (subcommand !== 'init' || !name || extra.length > 0) {
    process.stderr.write('usage: headshot plugin init <name>\n')
    return 2
  }
  const problem = pluginNameProblem(name)
  if (problem) {
    process.stderr.write(`headshot plugin init: ${problem}\n`)
    return 2
  }
  const file = `${name}.ts`
  if (existsSync(file)) {
    process.stderr.write(`headshot plugin init: ${file} exists; not overwriting it\n`)
    return 1
  }
  writeFileSync(file, starterPlugin(name))
  writeFileSync('headshot-plugin.d.ts', pluginDeclaration(pkg.version))
  process.stdout.write(
    `wrote ${file} and headshot-plugin.d.ts\n` +
      `next: edit ${file}, copy it into HEADSHOT_PLUGINS_DIR (default <data dir>/plugins),\n` +
      `set HEADSHOT_${name.toUpperCase()}_URL, then check \`headshot plugins\` (docs/plugins.md)\n`,
  )
  return 0
}

async function serve(): Promise<number> {
  const config = await loadConfig()
  // Every event from here on is one JSON line on stdout (docs/operations.md, Logs).
  const log = createLogger({
    level: config.logLevel,
    secrets: [config.apiSecret, databasePassword(config.databaseUrl)],
  })
  const plugins = await loadPlugins(config, (line) => log.warn(line))
  for (const { plugin, source } of plugins) {
    if (source !== 'built-in') log.info(`plugin file ${source} loaded: type ${plugin.type}`)
  }
  const headshot = createApp(config, { plugins: plugins.map((sourced) => sourced.plugin), log })
  for (const warning of config.warnings) headshot.log.warn(warning)
  if (config.generatedCredentials) {
    // The secret itself stays in the file (mode 0600): output often ends up in shared logs.
    headshot.log.info(
      `Generated development API credentials: HEADSHOT_API_KEY=${config.apiKey}, ` +
        `secret in ${config.dataDir}/credentials.json (readable by this user only)`,
    )
  }
  // Signals are caught before the first connection: the first starts the shutdown, a second means "now".
  let signalled: (signal: string) => void = () => {}
  let insisted: () => void = () => {}
  const firstSignal = new Promise<string>((resolve) => (signalled = resolve))
  const forceNow = new Promise<void>((resolve) => (insisted = resolve))
  let signals = 0
  const onSignal = (signal: string) => (++signals === 1 ? signalled(signal) : insisted())
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('SIGHUP', () => {
    const failure = headshot.reloadNamedTransformations()
    if (failure) headshot.log.error(`named transformations not reloaded: ${failure}`)
    else headshot.log.info('named transformations reloaded')
  })

  try {
    await headshot.ready // PostgreSQL: connected and migrated before the first request
  } catch (error) {
    headshot.log.error(`database ${headshot.engine} unavailable: ${(error as Error)?.message ?? error}`)
    await headshot.close().catch(() => {})
    return 1
  }
  const server = listen(headshot, { port: config.port, hostname: config.host })
  const listening = `headshot ${pkg.version} listening on http://${config.host}:${server.port} (data: ${config.dataDir})`
  // With HEADSHOT_PORT=0 the chosen port is only known from this line: it is printed whatever the log level.
  if (headshot.log.enabled('info')) headshot.log.info(listening, { version: pkg.version, pid: process.pid })
  else process.stdout.write(`${listening}\n`)
  const signal = await firstSignal
  headshot.log.info(`${signal}: shutting down`, {
    inFlight: headshot.inFlight,
    delayMs: config.shutdownDelayMs,
    timeoutMs: config.shutdownTimeoutMs,
  })
  const outcome = await shutdown(headshot, server, {
    delayMs: config.shutdownDelayMs,
    deadlineMs: config.shutdownTimeoutMs,
    forceNow,
  })
  if (outcome === 'drained') headshot.log.info('stopped: every request under way was answered')
  else headshot.log.warn('stopped: open connections were cut (the shutdown deadline passed, or a second signal)')
  return outcome === 'drained' ? 0 : 1
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      flushLogs()
      process.exit(code)
    },
    (error) => {
      process.stderr.write(
        error instanceof ConfigError ? `headshot: ${error.message}\n` : `headshot: ${error?.stack ?? error}\n`,
      )
      process.exit(1)
    },
  )
}
