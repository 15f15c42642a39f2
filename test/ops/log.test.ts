/**
 * The log: one JSON object per line, filtered by level, carrying the current request's id, and
 * never a credential, whatever reaches a message.
 */
import { describe, expect, test } from 'bun:test'
import { runTraced } from '../../src/lib/request-trace.ts'
import { createLogger, errorFields, LOG_LEVELS, type LogLevel } from '../../src/ops/log.ts'

function capture(level?: LogLevel, secrets: string[] = []) {
  const lines: string[] = []
  const log = createLogger({
    level,
    secrets,
    write: (line) => lines.push(line),
    now: () => Date.UTC(2026, 0, 2, 3, 4, 5),
  })
  return { log, lines, parsed: () => lines.map((line) => JSON.parse(line)) }
}

describe('a log line', () => {
  test('one JSON object ending in a newline: time, level, msg, then the fields', () => {
    const { log, lines } = capture()
    log.info('listening', { port: 8080 })
    expect(lines).toEqual(['{"time":"2026-01-02T03:04:05.000Z","level":"info","msg":"listening","port":8080}\n'])
  })

  test('a message with newlines and quotes stays one line', () => {
    const { log, lines, parsed } = capture()
    log.warn('upstream said "no"\nand then\r\nmore')
    expect(lines[0]!.trimEnd()).not.toContain('\n')
    expect(parsed()[0].msg).toBe('upstream said "no"\nand then\r\nmore')
  })

  test('inside a request, the request id is on every line', () => {
    const { log, parsed } = capture()
    runTraced({ id: 'req-1' }, () => log.warn('slow upstream'))
    log.info('outside')
    expect(parsed().map((line) => line.requestId)).toEqual(['req-1', undefined])
  })

  test('errors: the message, and the stack when asked for', () => {
    const error = new Error('broken')
    expect(errorFields(error, false)).toEqual({ error: 'broken' })
    expect(errorFields(error, true)).toMatchObject({ error: 'broken', stack: expect.stringContaining('log.test.ts') })
    expect(errorFields('text', true)).toEqual({ error: 'text' })
    const { log, parsed } = capture()
    log.error('failed', { cause: error })
    expect(parsed()[0].cause).toBe('broken')
  })
})

describe('levels', () => {
  test.each(LOG_LEVELS.map((level) => [level]))('at %s, lines below it are dropped', (level) => {
    const { log, parsed } = capture(level)
    log.debug('d')
    log.info('i')
    log.warn('w')
    log.error('e')
    const expected = { debug: 'd i w e', info: 'i w e', warn: 'w e', error: 'e', silent: '' }[level]
    expect(
      parsed()
        .map((line) => line.msg)
        .join(' '),
    ).toBe(expected)
    expect(log.enabled('info')).toBe(expected.includes('i'))
  })

  test('the default is info', () => {
    const { log, parsed } = capture(undefined)
    log.debug('d')
    log.info('i')
    expect(parsed().map((line) => line.msg)).toEqual(['i'])
  })
})

describe('secrets never reach a line', () => {
  test('known credentials are replaced wherever they appear, in the message and in fields', () => {
    const { log, lines } = capture('debug', ['s3cr3t-value-1'])
    const more = log.redacting(['plugin-token-22', undefined, 'ab'])
    more.error('upstream said: invalid token plugin-token-22 for key s3cr3t-value-1', {
      detail: { nested: 'again s3cr3t-value-1' },
      stack: 'Error: plugin-token-22\n    at x',
    })
    const text = lines.join('')
    expect(text).not.toContain('s3cr3t-value-1')
    expect(text).not.toContain('plugin-token-22')
    expect(text).toContain('<redacted>')
    // Values too short to be credentials are left alone (they would garble every line).
    more.info('ab cd')
    expect(JSON.parse(lines.at(-1)!).msg).toBe('ab cd')
  })

  test('query strings and user info of URLs, authorization credentials and secret-named pairs', () => {
    const { log, parsed } = capture()
    log.warn(
      'GET https://user:pw@graph.example/v19.0/4/picture?access_token=123|abc&redirect=false answered 500; ' +
        'sent Authorization: Bearer AAAAtoken.xyz and client_secret=shh&grant_type=x',
    )
    expect(parsed()[0].msg).toBe(
      'GET https://<redacted>@graph.example/v19.0/4/picture?<redacted> answered 500; ' +
        'sent Authorization: Bearer <redacted> and client_secret=<redacted>&grant_type=x',
    )
  })
})

describe('writing to stdout', () => {
  /** Counts the writes reaching stdout while `run` logs (the default writer, not a test sink). */
  async function stdoutWrites(run: (log: ReturnType<typeof createLogger>) => void): Promise<[string[], string[]]> {
    const writes: string[] = []
    const original = process.stdout.write
    process.stdout.write = ((chunk: string) => {
      writes.push(String(chunk))
      return true
    }) as typeof process.stdout.write
    try {
      run(createLogger({ level: 'info' }))
      const during = [...writes]
      await new Promise((resolve) => setImmediate(resolve))
      return [during, [...writes]]
    } finally {
      process.stdout.write = original
    }
  }

  test('info lines of one turn of the event loop go out in one write, after it', async () => {
    const [during, after] = await stdoutWrites((log) => {
      for (let i = 0; i < 3; i++) log.info('request', { i })
    })
    expect(during).toEqual([])
    expect(after).toHaveLength(1)
    expect(
      after[0]!
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line).i),
    ).toEqual([0, 1, 2])
  })

  test('a warning goes out at once, behind the lines waiting before it', async () => {
    const [during] = await stdoutWrites((log) => {
      log.info('first')
      log.warn('second')
    })
    expect(during).toHaveLength(1)
    expect(
      during[0]!
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line).msg),
    ).toEqual(['first', 'second'])
  })
})
