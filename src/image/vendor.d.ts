/**
 * Types for the untyped corners of our codec dependencies.
 * The imagescript native addon is imported directly (not through `Image`) because its PNG encoder
 * filters rows (10–100× smaller than imagescript's pure-JS PNG path) and its JPEG/WebP encoders
 * take our RGBA buffer without the extra copy into an `Image`.
 */
declare module 'imagescript/codecs/node/index.js' {
  interface Dims {
    width: number
    height: number
  }
  interface NativeEncoder<O> {
    encode(buffer: ArrayBufferView, options: Dims & O): Uint8Array
    encode_async(buffer: ArrayBufferView, options: Dims & O): Promise<Uint8Array>
  }
  interface GifFrameOptions {
    x: number
    y: number
    width: number
    height: number
    delay: number
    quality: number
    speed: number | null
    colors: number | null
    dispose: 'any' | 'keep' | 'previous' | 'background'
  }
  const codecs: {
    png: NativeEncoder<{
      compression?: 'fast' | 'default' | 'best'
      filter?: 'up' | 'sub' | 'none' | 'paeth' | 'average'
    }>
    jpeg: NativeEncoder<{ quality: number }>
    /** quality null = lossless. */
    webp: NativeEncoder<{ quality: number | null }>
    gif: {
      encoder: new (
        width: number,
        height: number,
      ) => {
        add(buffer: ArrayBufferView, options: GifFrameOptions): void
        finish(options: { repeat: number | null }): Uint8Array
      }
    }
  }
  export default codecs
}

/** `import path from 'x.wasm' with { type: 'file' }`: Bun gives a path (embedded as /$bunfs/… when compiled). */
declare module '*.wasm' {
  const path: string
  export default path
}

/** imagescript's pure-JS PNG codec (used by tests to write RGB PNGs, which the addon cannot). */
declare module 'imagescript/png/node.js' {
  const png: {
    encode(
      data: Uint8Array,
      options: { width: number; height: number; channels: 1 | 2 | 3 | 4; level?: number },
    ): Uint8Array
  }
  export default png
}

/**
 * imagescript's JPEG WASM decoder, used directly for its DCT-domain downscaling
 * (`decode(bytes, w, h)` returns the smallest 1/1, 1/2, 1/4 or 1/8 scale at least w×h).
 * format: 0 = grey, 1 = RGB, 2 = CMYK.
 */
declare module 'imagescript/wasm/node/jpeg.js' {
  const jpeg: {
    init(): Promise<{
      decode(
        bytes: Uint8Array,
        width?: number,
        height?: number,
      ): { width: number; height: number; format: 0 | 1 | 2; buffer: Uint8Array }
    }>
  }
  export default jpeg
}

/** imagescript's PNG WASM decoder, used directly: straight RGBA (8 bits per channel) for every colour type. */
declare module 'imagescript/wasm/node/png.js' {
  const png: {
    init(): Promise<{ decode(bytes: Uint8Array): { width: number; height: number; framebuffer: Uint8Array } }>
  }
  export default png
}
