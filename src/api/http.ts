/**
 * What every Admin/Upload API answer shares: JSON errors in Cloudinary's `{"error":{"message"}}`
 * shape, never cached, and the parameter spellings the SDKs send (booleans as `1`/`true`, arrays
 * as repeated `key[]` fields or JSON arrays).
 */
import { HttpError } from '../lib/http-error.ts'

export function apiError(status: number, message: string, headers: Record<string, string> = {}): Response {
  return Response.json({ error: { message } }, { status, headers: { 'Cache-Control': 'no-store', ...headers } })
}

export function apiJson(body: unknown, headers: Record<string, string> = {}): Response {
  return Response.json(body, { headers: { 'Cache-Control': 'no-store', ...headers } })
}

/** A received parameter as it arrives from urlencoded, multipart or JSON bodies. */
export type ParamValue = string | number | boolean | null | undefined | ParamValue[]

/** `1`, `true` (any case) and JSON true are true; everything else, including absence, is false. */
export function flag(value: ParamValue): boolean {
  if (Array.isArray(value)) return flag(value.at(-1))
  return value === true || value === 1 || (typeof value === 'string' && /^(1|true)$/i.test(value.trim()))
}

/** One text value (the last one when a field was repeated); undefined when absent or empty. */
export function text(value: ParamValue): string | undefined {
  if (Array.isArray(value)) return text(value.at(-1))
  if (value === undefined || value === null || value === '') return undefined
  return String(value)
}

/** A list parameter: repeated fields, a JSON array, or one value. */
export function list(value: ParamValue): string[] {
  if (value === undefined || value === null || value === '') return []
  if (Array.isArray(value)) return value.flatMap(list)
  return [String(value)]
}

/** Throw a 400 naming the parameter (clear errors for every SDK). */
export function badParam(name: string, problem: string): never {
  throw new HttpError(400, `Invalid value for ${name}: ${problem}`)
}
