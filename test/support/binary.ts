/**
 * Running the compiled executable from tests as an operator would: `dist/headshot` (built first
 * when missing), a minimal environment, output read until a line appears.
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

export const ROOT = resolve(import.meta.dir, '../..')
export const BINARY = join(ROOT, 'dist', 'headshot')

/** Build dist/headshot when it is missing (CI builds it before `npm test`). */
export function ensureBinary(): void {
  if (existsSync(BINARY)) return
  const build = Bun.spawnSync([process.execPath, 'run', 'scripts/build.ts'], {
    cwd: ROOT,
    stdout: 'inherit',
    stderr: 'inherit',
  })
  if (build.exitCode !== 0) throw new Error('npm run build failed')
}

/** Runs the binary to completion: its output and exit code. */
export async function runBinary(args: string[], cwd: string, env: Record<string, string>) {
  const child = Bun.spawn([BINARY, ...args], { cwd, env, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  return { stdout, stderr, code }
}

/** Read `stream` until `pattern` matches the text so far (the reader is released, the stream left open). */
export async function readUntil(
  stream: ReadableStream<Uint8Array>,
  pattern: RegExp,
  timeoutMs: number,
): Promise<string> {
  const reader = stream.getReader()
  const decoder = new TextDecoder()
  let text = ''
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const chunk = await Promise.race([reader.read(), Bun.sleep(deadline - Date.now()).then(() => undefined)])
    if (!chunk || chunk.done) break
    text += decoder.decode(chunk.value)
    if (pattern.test(text)) {
      reader.releaseLock()
      return text
    }
  }
  throw new Error(`nothing matching ${pattern} in: ${text}`)
}

/**
 * `bun src/main.ts serve` from the source tree, on loopback at a free port, sweeper off, with `env`
 * on top: the child once it says where it listens, with what it wrote until then (`started`). Its
 * stdout is left to the caller to read on; when it does not start, it is killed.
 */
export async function spawnServe(
  env: Record<string, string>,
  { stderr = 'inherit', timeoutMs = 20_000 }: { stderr?: 'inherit' | 'pipe'; timeoutMs?: number } = {},
) {
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HEADSHOT_PORT: '0',
      HEADSHOT_HOST: '127.0.0.1',
      HEADSHOT_SWEEP_RATE: '0',
      ...env,
    },
    stdout: 'pipe',
    stderr,
  })
  const listening = /listening on http:\/\/127\.0\.0\.1:(\d+)/
  try {
    const started = await readUntil(child.stdout, listening, timeoutMs)
    const port = Number(listening.exec(started)![1])
    return { child, port, base: `http://127.0.0.1:${port}`, started }
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
}
