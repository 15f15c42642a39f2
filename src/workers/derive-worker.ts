/**
 * Worker entry: runs transformations off the server thread, so a slow derive (a 4 MP decode blocks
 * ~0.4 s) never delays warm hits. Protocol: DeriveJob in, DeriveReply out.
 */
import { deriveImage } from '../image/pipeline.ts'
import type { DeriveJob, DeriveReply } from './protocol.ts'

declare const self: Worker

self.onmessage = async (event: MessageEvent<DeriveJob>) => {
  const { id, input, limits } = event.data
  let reply: DeriveReply
  try {
    const output = await deriveImage(input, limits)
    // The native encoder's buffer cannot be transferred (toolchain.md §3), so it is copied.
    reply = { id, ok: true, output: { ...output, bytes: new Uint8Array(output.bytes) } }
  } catch (error) {
    const e = error as Error
    reply = { id, ok: false, error: { name: e?.name ?? 'Error', message: e?.message ?? String(error) } }
  }
  self.postMessage(reply)
}
