/**
 * The official `cloudinary` Node SDK pointed at a headshot on loopback, as a user would configure it.
 *
 * The SDK chooses between `http` and `https` when its modules load, from the `upload_prefix` in
 * CLOUDINARY_URL (a plain-http prefix set later through `config()` fails). So each call loads a
 * fresh copy of the SDK after setting CLOUDINARY_URL, exactly like a program that sets the
 * variable before requiring it.
 */
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

export type CloudinaryV2 = typeof import('cloudinary').v2

export interface SdkOptions {
  baseUrl: string
  cloudName: string
  apiKey: string
  apiSecret: string
}

export function loadSdk(options: SdkOptions): CloudinaryV2 {
  process.env.CLOUDINARY_URL =
    `cloudinary://${options.apiKey}:${encodeURIComponent(options.apiSecret)}@${options.cloudName}` +
    `?upload_prefix=${options.baseUrl}`
  for (const key of Object.keys(require.cache)) {
    if (key.includes('/node_modules/cloudinary/')) delete require.cache[key]
  }
  const sdk = (require('cloudinary') as typeof import('cloudinary')).v2
  delete process.env.CLOUDINARY_URL
  return sdk
}

/** An SDK call that is expected to fail: its error as the SDK reports it. */
export async function sdkError(promise: Promise<unknown>): Promise<{ message: string; http_code: number }> {
  try {
    await promise
  } catch (error) {
    const e =
      (error as { error?: { message: string; http_code: number } }).error ??
      (error as { message: string; http_code: number })
    return { message: e.message, http_code: e.http_code }
  }
  throw new Error('expected the SDK call to fail')
}
