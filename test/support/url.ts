/** Small assertion helpers shared by the URL-layer tests. */
import { expect } from 'bun:test'
import type { Result } from '../../src/result.ts'
import { parseDeliveryPath } from '../../src/url/parse.ts'
import { parseComponent } from '../../src/url/component.ts'
import type { Component, DeliveryError, DeliveryRequest } from '../../src/url/types.ts'

export function unwrap<T, E>(result: Result<T, E>): T {
  if (!result.ok) throw new Error(`expected ok, got error ${JSON.stringify(result.error)}`)
  return result.value
}

export function expectError<T>(
  result: Result<T, DeliveryError>,
  status: DeliveryError['status'],
  message: string,
): void {
  expect(result.ok).toBe(false)
  if (!result.ok) expect({ status: result.error.status, message: result.error.message }).toEqual({ status, message })
}

/** Parses with the cloud name `demo`, like the URLs generated with the SDK in signature.test.ts. */
export const parse = (path: string): Result<DeliveryRequest, DeliveryError> =>
  parseDeliveryPath(path, { cloudName: 'demo' })
export const parsed = (path: string): DeliveryRequest => unwrap(parse(path))
export const component = (text: string): Component => unwrap(parseComponent(text))
