import { describe, expect, test } from 'bun:test'
import { redactForClient, redactForLog } from '../../src/lib/redact.ts'

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

describe('what the server log may keep', () => {
  test('hosts, paths, statuses and addresses stay: the operator needs them', () => {
    const text = 'facebook: https://scontent.example/v/t1.jpg answered 500 from 10.1.2.3'
    expect(redactForLog(text)).toBe(text)
  })

  test('query strings (tokens, signed-URL parameters) and user info go', () => {
    expect(redactForLog('https://cdn.example/p.jpg?oh=SIG&oe=5 answered 403')).toBe(
      'https://cdn.example/p.jpg?<redacted> answered 403',
    )
    expect(redactForLog('ftp://me:pw@files.example/x#frag')).toBe('ftp://<redacted>@files.example/x?<redacted>')
  })

  test('credentials after an authorization scheme, and pairs whose name says secret', () => {
    expect(redactForLog('Authorization: Basic MTIzOnNlY3JldA==')).toBe('Authorization: Basic <redacted>')
    expect(redactForLog('token=abc; api_secret=def, password=ghi signature=jkl')).toBe(
      'token=<redacted>; api_secret=<redacted>, password=<redacted> signature=<redacted>',
    )
    // A Cloudinary API key is public (it is part of upload URLs): it stays readable.
    expect(redactForLog('HEADSHOT_API_KEY=123456')).toBe('HEADSHOT_API_KEY=123456')
  })

  test('known secrets wherever they are, the longest first', () => {
    expect(
      redactForLog(
        'a long-secret-x and long-secret',
        ['long-secret', 'long-secret-x'].sort((a, b) => b.length - a.length),
      ),
    ).toBe('a <redacted> and <redacted>')
  })
})
