/**
 * The server's log: one JSON object per line on stdout, for every event (requests, errors,
 * background work, start and stop), so a collector needs no parsing rules (docs/operations.md,
 * Logs). Each line has `time`, `level`, `msg`, the current request's `requestId` when there is one,
 * and its own fields. Every string is passed through `redactForLog` on the way out, with the
 * credentials the server knows of, so a secret that reaches a message (an upstream's error text, a
 * stack) is not written.
 */
import { currentTrace } from '../lib/request-trace.ts'
import { redactForLog } from '../lib/redact.ts'

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]
export type LogFields = Record<string, unknown>

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

/** Values shorter than this are not treated as secrets: replacing them would garble lines, and they guard nothing. */
const MIN_SECRET_LENGTH = 6

export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
  /** Would a line at this level be written? */
  enabled(level: Exclude<LogLevel, 'silent'>): boolean
  /** The same logger (level, output), also removing these values from every line. */
  redacting(secrets: Iterable<string | undefined>): Logger
}

export interface LoggerOptions {
  /** Lines below this level are dropped (default `info`; `silent` drops everything). */
  level?: LogLevel
  /** Where each line (ending in a newline) goes; default stdout. */
  write?: (line: string) => void
  now?: () => number
  /** Values never to write (API secret, plugin credentials). */
  secrets?: Iterable<string | undefined>
}

/**
 * Lines bound for stdout, written together once per turn of the event loop: one write per request
 * was a third of a warm hit's CPU under load. Warnings and errors go out at once (with whatever
 * is waiting before them, so the order holds), and so does a buffer past 64 KB.
 */
const pending: string[] = []
let pendingBytes = 0
let flushScheduled = false
const FLUSH_BYTES = 64 * 1024

/** Write the waiting lines now (also done on exit; call it before ending the process another way). */
export function flushLogs(): void {
  flushScheduled = false
  if (pending.length === 0) return
  const text = pending.join('')
  pending.length = 0
  pendingBytes = 0
  process.stdout.write(text)
}

function writeStdout(line: string, urgent: boolean): void {
  pending.push(line)
  pendingBytes += line.length
  if (urgent || pendingBytes >= FLUSH_BYTES) flushLogs()
  else if (!flushScheduled) {
    flushScheduled = true
    setImmediate(flushLogs)
  }
}
process.on('exit', flushLogs)

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = RANK[options.level ?? 'info']
  const write: (line: string, level: Exclude<LogLevel, 'silent'>) => void =
    options.write ?? ((line, level) => writeStdout(line, RANK[level] >= RANK.warn))
  const now = options.now ?? Date.now
  const secrets = [...new Set([...(options.secrets ?? [])])]
    .filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH)
    // The longest first: a secret containing another is replaced whole.
    .sort((a, b) => b.length - a.length)
  const clean = (value: unknown) => {
    if (typeof value === 'string') return redactForLog(value, secrets)
    if (value instanceof Error) return redactForLog(value.message, secrets)
    return value
  }
  // A replacer visits every value of every line; only lines with nested fields (rare) need one.
  const scrubDeep = (_key: string, value: unknown) => clean(value)

  const line = (level: Exclude<LogLevel, 'silent'>) => (msg: string, fields?: LogFields) => {
    if (RANK[level] < threshold) return
    const entry: LogFields = { time: new Date(now()).toISOString(), level, msg: clean(msg) }
    const requestId = currentTrace()?.id
    if (requestId !== undefined) entry.requestId = requestId
    let nested = false
    for (const key in fields) {
      const value = fields[key]
      entry[key] = clean(value)
      if (typeof value === 'object' && value !== null && !(value instanceof Error)) nested = true
    }
    write(`${nested ? JSON.stringify(entry, scrubDeep) : JSON.stringify(entry)}\n`, level)
  }

  return {
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    enabled: (level) => RANK[level] >= threshold,
    redacting: (more) => createLogger({ ...options, secrets: [...secrets, ...more] }),
  }
}

/** The message and, for unexpected failures, the stack of an error, as log fields. */
export function errorFields(error: unknown, withStack: boolean): LogFields {
  if (!(error instanceof Error)) return { error: String(error) }
  return withStack && error.stack ? { error: error.message, stack: error.stack } : { error: error.message }
}
