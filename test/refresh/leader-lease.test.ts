/**
 * The leader lease's rules (src/refresh/leader.ts) against a scripted connection, so every way of
 * losing the lock can be provoked exactly: the first try happens at once; a standby keeps trying;
 * the leader stops at once when its connection closes, when a check fails, and when the server
 * says the lock is no longer held, and each time it closes the connection (so a half-alive
 * session cannot keep the lock while nobody sweeps); closing hands the lock on by closing the
 * session. The same against a real PostgreSQL: test/refresh/leader.test.ts.
 */
import { afterEach, expect, test } from 'bun:test'
import { createAdvisoryLeadership, type Leadership, type LockConnection } from '../../src/refresh/leader.ts'

/** What the scripted server answers next: the lock is free (or held by us), taken by another, or an error. */
type Answer = 'yes' | 'no' | 'error'

interface Scripted extends LockConnection {
  queries: string[]
  closed: boolean
  /** The socket closes (the server ended the session). */
  drop(): void
}

let answer: Answer = 'yes'
const connections: Scripted[] = []
const changes: string[] = []
let lease: Leadership | undefined

function start(): Leadership {
  lease = createAdvisoryLeadership({
    retryMs: 20,
    checkMs: 10,
    onChange: (leading, why) => changes.push(`${leading ? 'leads' : 'stops'}: ${why}`),
    connect(onClose) {
      const connection: Scripted = {
        queries: [],
        closed: false,
        async unsafe(query) {
          connection.queries.push(query)
          if (connection.closed) throw new Error('Connection closed')
          if (answer === 'error') throw new Error('server gone')
          const yes = answer === 'yes'
          return [query.includes('pg_try_advisory_lock') ? { got: yes } : { held: yes }]
        },
        async close() {
          connection.closed = true
        },
        drop() {
          connection.closed = true
          onClose()
        },
      }
      connections.push(connection)
      return connection
    },
  })
  return lease
}

const until = async (condition: () => boolean) => {
  for (let i = 0; i < 200 && !condition(); i++) await Bun.sleep(5)
  expect(condition()).toBe(true)
}

afterEach(async () => {
  await lease?.close()
  answer = 'yes'
  connections.length = 0
  changes.length = 0
})

test('the first try is at once; a leader then checks that its session still holds the lock', async () => {
  const leadership = start()
  await until(() => leadership.leading)
  expect(connections).toHaveLength(1)
  expect(connections[0]!.queries[0]).toContain('pg_try_advisory_lock')
  await until(() => connections[0]!.queries.length >= 3)
  expect(connections[0]!.queries.slice(1).every((query) => query.includes('pg_locks'))).toBe(true)
  expect(leadership.leading).toBe(true)
})

test('a standby keeps trying, on the same connection, and leads once the lock is free', async () => {
  answer = 'no'
  const leadership = start()
  await until(() => connections[0]!.queries.length >= 3)
  expect(leadership.leading).toBe(false)
  answer = 'yes'
  await until(() => leadership.leading)
  expect(connections).toHaveLength(1)
})

test('the connection closes: the leader stops at once, then tries again on a new one', async () => {
  const leadership = start()
  await until(() => leadership.leading)
  answer = 'no' // meanwhile another instance took the lock
  connections[0]!.drop()
  expect(leadership.leading).toBe(false) // synchronously, not at the next check
  await until(() => connections.length === 2 && connections[1]!.queries.length > 0)
  expect(leadership.leading).toBe(false)
  expect(changes).toEqual(['leads: lock acquired', 'stops: the lock connection closed'])
})

test('a failed check, or a lock no longer held: the leader stops and closes its session', async () => {
  const leadership = start()
  await until(() => leadership.leading)
  answer = 'error'
  await until(() => !leadership.leading)
  expect(connections[0]!.closed).toBe(true)
  expect(changes.at(-1)).toStartWith('stops: the lock connection failed')

  answer = 'yes'
  await until(() => leadership.leading)
  answer = 'no'
  await until(() => !leadership.leading)
  expect(changes.at(-1)).toBe('stops: the lock is no longer held')
  expect(connections[1]!.closed).toBe(true)
})

test('closing hands the lock on: the session is closed and nothing is tried any more', async () => {
  const leadership = start()
  await until(() => leadership.leading)
  await leadership.close()
  expect(leadership.leading).toBe(false)
  expect(connections[0]!.closed).toBe(true)
  const queries = connections[0]!.queries.length
  await Bun.sleep(50)
  expect(connections).toHaveLength(1)
  expect(connections[0]!.queries.length).toBe(queries)
})
