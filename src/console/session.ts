/**
 * Console sessions, kept in memory only: a restart signs everybody out, which is the right
 * default for an admin page of a single-binary service (no session table to leak or to migrate).
 *
 * The map is keyed by a hash of the session id, so looking a cookie up does not compare the
 * secret id itself character by character.
 */
import { createHash } from 'node:crypto'
import { randomToken, sameSecret } from './security.ts'

export interface Session {
  /** Sent in an action's CSRF header; compared in constant time. */
  csrfToken: string
  createdAt: number
  lastSeenAt: number
}

export interface SessionOptions {
  now: () => number
  /** A session unused this long is gone (default 12 h). */
  idleMs?: number
  /** A session older than this is gone however busy (default 7 days). */
  maxAgeMs?: number
  /** Oldest sessions are dropped beyond this many (default 1000). */
  maxSessions?: number
}

const HOUR = 3_600_000
const idKey = (id: string) => createHash('sha256').update(id).digest('base64url')

export class SessionStore {
  private readonly sessions = new Map<string, Session>()
  private readonly idleMs: number
  private readonly maxAgeMs: number
  private readonly maxSessions: number

  constructor(private readonly options: SessionOptions) {
    this.idleMs = options.idleMs ?? 12 * HOUR
    this.maxAgeMs = options.maxAgeMs ?? 7 * 24 * HOUR
    this.maxSessions = options.maxSessions ?? 1000
  }

  /** Starts a session; returns its id (for the cookie only: never logged, never in a body). */
  create(): { id: string; session: Session } {
    this.dropExpired()
    // Map order is insertion order: the first entries are the oldest sessions.
    while (this.sessions.size >= this.maxSessions) this.sessions.delete(this.sessions.keys().next().value!)
    const now = this.options.now()
    const id = randomToken()
    const session: Session = { csrfToken: randomToken(), createdAt: now, lastSeenAt: now }
    this.sessions.set(idKey(id), session)
    return { id, session }
  }

  /** The live session for this id, its idle clock restarted; undefined when unknown or expired. */
  touch(id: string | undefined): Session | undefined {
    if (!id) return undefined
    const key = idKey(id)
    const session = this.sessions.get(key)
    if (!session) return undefined
    const now = this.options.now()
    if (this.expired(session, now)) {
      this.sessions.delete(key)
      return undefined
    }
    session.lastSeenAt = now
    return session
  }

  destroy(id: string | undefined): void {
    if (id) this.sessions.delete(idKey(id))
  }

  /** The header's token is this session's (constant time). */
  static csrfMatches(session: Session, token: string | null): boolean {
    return token !== null && sameSecret(token, session.csrfToken)
  }

  get size(): number {
    return this.sessions.size
  }

  private expired(session: Session, now: number): boolean {
    return now - session.lastSeenAt > this.idleMs || now - session.createdAt > this.maxAgeMs
  }

  private dropExpired(): void {
    const now = this.options.now()
    for (const [key, session] of this.sessions) if (this.expired(session, now)) this.sessions.delete(key)
  }
}
