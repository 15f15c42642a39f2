/**
 * Which format to encode: `f_` (the last one in the chain) > the URL's extension > the source.
 * Decided before decoding so the derivative key, Content-Type and `Vary` are known up front.
 */
import { PADDING_MODES, type Component, type ImageFormat } from '../url/types.ts'

export interface FormatInput {
  chain: readonly Component[]
  /** Extension of the public id in the URL (`.png` → 'png'), if any. */
  extension?: ImageFormat
  sourceFormat: ImageFormat
  /** The request's `Accept` header. */
  accept?: string
  /**
   * Whether the source can carry transparency, from its header (`probeImage(...).mayHaveAlpha`).
   * Unknown → judged from the format: JPEG never, PNG/GIF/WebP maybe.
   */
  sourceMayHaveAlpha?: boolean
}

export interface FormatDecision {
  format: ImageFormat
  /** True when the choice depended on `Accept` (the response must say `Vary: Accept`). */
  variesOnAccept: boolean
}

export function chooseOutputFormat(input: FormatInput): FormatDecision {
  let requested: ImageFormat | 'auto' | undefined
  for (const c of input.chain) if (c.format !== undefined) requested = c.format
  if (requested === undefined) return { format: input.extension ?? input.sourceFormat, variesOnAccept: false }
  if (requested !== 'auto') return { format: requested, variesOnAccept: false }
  // f_auto: WebP when the browser says so (it keeps alpha and is smaller than both JPEG and PNG);
  // otherwise JPEG, unless the result may be transparent — then PNG, so nothing turns white.
  if (acceptsWebp(input.accept)) return { format: 'webp', variesOnAccept: true }
  const alpha = (input.sourceMayHaveAlpha ?? input.sourceFormat !== 'jpg') || chainAddsTransparency(input.chain)
  return { format: alpha ? 'png' : 'jpg', variesOnAccept: true }
}

/** `image/webp` listed with a non-zero q. Wildcards do not count: browsers that decode WebP say so. */
export function acceptsWebp(accept: string | undefined): boolean {
  if (!accept) return false
  for (const part of accept.toLowerCase().split(',')) {
    const [type, ...params] = part.trim().split(';')
    if (type?.trim() !== 'image/webp') continue
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    return q === undefined || Number(q.slice(2)) > 0
  }
  return false
}

/** Steps that make (part of) an opaque image transparent. */
function chainAddsTransparency(chain: readonly Component[]): boolean {
  return chain.some(
    (c) =>
      c.radius !== undefined ||
      (c.opacity !== undefined && c.opacity < 100) ||
      (c.angles ?? []).some((a) => a.kind === 'deg' && a.value % 90 !== 0) ||
      (c.background !== undefined && c.background.a < 255 && c.crop !== undefined && PADDING_MODES.has(c.crop)),
  )
}
