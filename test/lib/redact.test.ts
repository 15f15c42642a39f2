import { describe, expect, test } from 'bun:test'
import { redactForClient } from '../../src/lib/redact.ts'

describe('what a client may be told about an upstream failure', () => {
  test('URLs (with their query strings and hosts) are replaced', () => {
    const text = 'Facebook: https://scontent.internal.corp/v/t1.jpg?oh=SECRET&oe=5 answered HTTP 500'
    expect(redactForClient(text)).toBe('Facebook: <url> answered HTTP 500')
  })

  test('resolved addresses are replaced, IPv4 and IPv6', () => {
    expect(redactForClient('blocked: cdn.example resolves to 10.1.2.3 (private)')).toBe(
      'blocked: cdn.example resolves to <address> (private)',
    )
    expect(redactForClient('connect to [fd00::1] refused')).toBe('connect to <address> refused')
    expect(redactForClient('no route to 2001:db8:0:0:0:0:0:1')).toBe('no route to <address>')
  })

  test('the rest of the message stays readable', () => {
    expect(redactForClient('X: HTTP 503 at 12:30:00 (code 2)')).toBe('X: HTTP 503 at 12:30:00 (code 2)')
  })
})
