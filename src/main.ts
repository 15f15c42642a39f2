#!/usr/bin/env bun
/**
 * CLI entry (also the compiled binary's): `headshot [serve]`, `headshot sign <url-path>`,
 * `headshot --help`, `headshot --version` (docs/operations.md, Command line).
 */
import pkg from '../package.json' with { type: 'json' }
import { createApp } from './app.ts'
import { ConfigError, loadConfig } from './config.ts'
import { signDeliveryPath } from './url/signature.ts'

const HELP = `headshot ${pkg.version}: Cloudinary-compatible delivery of social profile pictures

Usage:
  headshot [serve]            run the server (configured by HEADSHOT_* environment variables)
  headshot sign <url-path>    print the path with a valid s--…-- signature for the configured secret
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
  const signed = signDeliveryPath(path, config.apiSecret)
  if (!signed.ok) {
    process.stderr.write(`headshot sign: ${signed.error.message}\n`)
    return 1
  }
  process.stdout.write(`${signed.value}\n`)
  return 0
}

async function serve(): Promise<number> {
  const config = await loadConfig()
  const headshot = createApp(config)
  for (const warning of config.warnings) process.stderr.write(`warning: ${warning}\n`)
  if (config.generatedCredentials) {
    process.stdout.write(
      `Generated development API credentials (kept in ${config.dataDir}/credentials.json):\n` +
        `  HEADSHOT_API_KEY=${config.apiKey}\n  HEADSHOT_API_SECRET=${config.apiSecret}\n`,
    )
  }
  headshot.app.listen({ port: config.port, hostname: config.host })
  const port = headshot.app.server?.port ?? config.port
  process.stdout.write(`headshot ${pkg.version} listening on http://${config.host}:${port} (data: ${config.dataDir})\n`)

  process.on('SIGHUP', () => {
    const failure = headshot.reloadNamedTransformations()
    process.stderr.write(
      failure ? `named transformations not reloaded: ${failure}\n` : 'named transformations reloaded\n',
    )
  })
  await new Promise<void>((resolve) => {
    const stop = () => resolve()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  await headshot.app.stop()
  await headshot.close()
  return 0
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(
        error instanceof ConfigError ? `headshot: ${error.message}\n` : `headshot: ${error?.stack ?? error}\n`,
      )
      process.exit(1)
    },
  )
}
