/**
 * Hostile image files (written by test/support/hostile-images.ts) served by an upstream that a
 * network's user controls: pixel bombs behind small headers, decompression and metadata bombs,
 * malformed LZW, a progressive JPEG of thousands of scans, WebP canvases that lie, formats we do not
 * read, truncations of every format, and polyglots (GIF/JavaScript, JPEG+ZIP, PNG+HTML, SVG or
 * HTML labelled as an image).
 *
 * Each is requested through delivery (download, store, transformation in the worker pool), and fed
 * straight to the pipeline and to a worker, as a file in the placeholders folder would be. Whatever
 * the file: never a 500 or a crashed worker; a refusal is a 4xx/502 with `X-Cld-Error` naming no
 * upstream URL; every answer says `nosniff`; a 200 is the image type its bytes are, never HTML or
 * script; each request is answered in bounded time, and memory comes back once the pool is closed.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Type } from '@sinclair/typebox'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { gzipSync } from 'node:zlib'
import { join } from 'node:path'
import { DEFAULT_IMAGE_LIMITS } from '../../src/image/limits.ts'
import { deriveImage } from '../../src/image/pipeline.ts'
import { encode, MAX_JPEG_SCANS } from '../../src/image/codecs.ts'
import { HttpError } from '../../src/lib/http-error.ts'
import { probeImage, sniffFormat } from '../../src/lib/image-header.ts'
import { definePlugin, ok } from '../../src/plugin-host/types.ts'
import { parseChain } from '../../src/url/component.ts'
import { createDerivePool, type DerivePool } from '../../src/workers/derive-pool.ts'
import { makePicture } from '../support/fakes/images.ts'
import { serveFake, type FakeServer } from '../support/fakes/server.ts'
import { startHeadshot, type Headshot } from '../support/headshot.ts'
import * as hostile from '../support/hostile-images.ts'

/**
 * What the file must lead to when delivered with a transformation:
 * `refused`: 502 before anything is stored (the header says no), `undecodable`: 502 from the
 * decoder (the original is stored and served as it is), `image`: a 200, `either`: 200 or 502
 * (truncated data, which some decoders fill in).
 */
type Outcome = 'refused' | 'undecodable' | 'image' | 'either'

interface HostileCase {
  name: string
  bytes: Uint8Array
  /** The Content-Type the upstream claims (default: the one of the magic bytes, else image/jpeg). */
  contentType?: string
  /** Sent as `Content-Encoding: gzip` (the bytes are the compressed body). */
  gzip?: boolean
  outcome: Outcome
  /** What X-Cld-Error must say when refused. */
  because?: RegExp
  /** Bytes of the file that must not survive a transformation (a polyglot's payload). */
  payload?: string
  /** Too big to decode on the test runner's own thread (its WASM memory would stay grown): workers only. */
  heavy?: boolean
}

const TIME_LIMIT_MS = 5_000 // generous: the cores are shared, the slowest legitimate case takes ~1 s
const text = (value: string) => new TextEncoder().encode(value)
const IMAGE_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
}

async function hostileCases(): Promise<HostileCase[]> {
  const jpeg = await makePicture('hostile', 64, 48, 'jpg')
  const flat = (side: number) => ({ width: side, height: side, data: new Uint8Array(side * side * 4).fill(200) })
  const progressive = await encode(flat(2000), 'jpg', { quality: 80, progressive: true })
  const frame100 = hostile.solidFrame(100, 100)
  const cases: HostileCase[] = [
    // --- GIF: frames the logical screen does not announce
    {
      name: 'GIF, 1×1 screen, first frame 65535×65535',
      bytes: hostile.gif({ width: 1, height: 1 }, [{ width: 65535, height: 65535 }]),
      outcome: 'refused',
      because: /gif of 65535x65535 exceeds/,
    },
    {
      name: 'GIF, 10×10 screen, 1×1 frame placed at 60000,60000',
      bytes: hostile.gif({ width: 10, height: 10 }, [hostile.solidFrame(1, 1, { left: 60000, top: 60000 })]),
      outcome: 'refused',
      because: /gif of 60001x60001 exceeds/,
    },
    {
      name: 'GIF, 1×1 screen, a real 4000×4000 first frame in 11 KB (allowed: 16 MP)',
      bytes: hostile.gif({ width: 1, height: 1 }, [hostile.solidFrame(4000, 4000)]),
      outcome: 'image',
      heavy: true,
    },
    {
      name: 'GIF, 5,000 frames (only the first is decoded)',
      bytes: hostile.gif(
        { width: 100, height: 100 },
        Array.from({ length: 5000 }, () => frame100),
      ),
      outcome: 'image',
    },
    {
      name: 'GIF, a sane first frame and a 65535×65535 second one',
      bytes: hostile.gif({ width: 10, height: 10 }, [hostile.solidFrame(10, 10), { width: 65535, height: 65535 }]),
      outcome: 'image',
    },
    ...[0, 1, 12, 255].map(
      (minCodeSize): HostileCase => ({
        name: `GIF, LZW minimum code size ${minCodeSize}`,
        bytes: hostile.gif({ width: 10, height: 10 }, [{ width: 10, height: 10, minCodeSize }]),
        outcome: 'undecodable',
        because: /could not be decoded/,
      }),
    ),
    {
      name: 'GIF, LZW stream of garbage codes',
      bytes: hostile.gif({ width: 100, height: 100 }, [
        { width: 100, height: 100, minCodeSize: 8, lzw: new Uint8Array(5000).map((_, i) => (i * 37) & 0xff) },
      ]),
      outcome: 'undecodable',
      because: /could not be decoded/,
    },
    {
      name: 'GIF, LZW data for ten times the frame',
      bytes: hostile.gif({ width: 10, height: 10 }, [{ width: 10, height: 10, lzw: hostile.gifLzw(1000) }]),
      outcome: 'image',
    },
    // --- PNG: decompression and metadata bombs
    {
      name: 'PNG, IHDR 100000×100000 over a 20-byte IDAT',
      bytes: hostile.png({ width: 100000, height: 100000, idat: new Uint8Array([0x78, 0x9c, 3, 0, 0, 0, 0, 1]) }),
      outcome: 'refused',
      because: /png of 100000x100000 exceeds/,
    },
    {
      name: 'PNG, 4000×4000 of zeros in 64 KB (a 1000:1 bomb within the limits)',
      bytes: hostile.pngBomb(4000, 4000),
      outcome: 'image',
      heavy: true,
    },
    {
      name: 'PNG, 4000×4000 whose IDAT stops after 2 KB',
      bytes: hostile.png({ width: 4000, height: 4000, idat: hostile.pngBomb(4000, 4000).subarray(41, 2000) }),
      outcome: 'undecodable',
      because: /could not be decoded/,
      heavy: true,
    },
    {
      name: 'PNG, zTXt inflating to 50 MB',
      bytes: hostile.png({ width: 8, height: 8, before: [hostile.zTxtBomb(50_000_000)] }),
      outcome: 'image',
    },
    {
      name: 'PNG, iCCP "profile" inflating to 50 MB',
      bytes: hostile.png({ width: 8, height: 8, before: [hostile.iccpBomb(50_000_000)] }),
      outcome: 'image',
    },
    // --- JPEG
    {
      name: 'JPEG, SOF claiming 65535×65535',
      bytes: hostile.jpegWithSize(jpeg, 65535, 65535),
      outcome: 'refused',
      because: /jpg of 65535x65535 exceeds/,
    },
    {
      name: 'JPEG, SOF claiming 4000×4000 over the scan of a 64×48 picture',
      bytes: hostile.jpegWithSize(jpeg, 4000, 4000),
      outcome: 'either',
      heavy: true,
    },
    {
      name: `progressive JPEG, 2000×2000, its last scan repeated to 4,000 scans (${MAX_JPEG_SCANS} allowed)`,
      bytes: hostile.jpegManyScans(progressive, 4000),
      outcome: 'undecodable',
      because: /JPEG with 4000 scans/,
    },
    {
      name: 'progressive JPEG, 2000×2000, 200 scans (allowed)',
      bytes: hostile.jpegManyScans(progressive, 200),
      outcome: 'image',
    },
    // --- WebP
    {
      name: 'WebP, VP8X canvas 1×1 over a 16383×16383 lossless image of 20 bytes',
      bytes: hostile.webpCanvasLie({ width: 1, height: 1 }, { width: 16383, height: 16383 }),
      outcome: 'undecodable',
      because: /could not be decoded/,
    },
    {
      name: 'WebP, VP8X canvas 16384×16384',
      bytes: hostile.webpCanvasLie({ width: 16384, height: 16384 }, { width: 10, height: 10 }),
      outcome: 'refused',
      because: /webp of 16384x16384 exceeds/,
    },
    {
      name: 'WebP, lossless 16383×16383 in 38 bytes',
      bytes: hostile.riffWebp([{ fourcc: 'VP8L', data: hostile.vp8lSolid(16383, 16383) }]),
      outcome: 'refused',
      because: /webp of 16383x16383 exceeds/,
    },
    {
      name: 'WebP, animated (ANIM + one ANMF frame)',
      bytes: hostile.animatedWebp(),
      outcome: 'either',
    },
    // --- transport
    {
      name: 'gzip bomb: a JPEG start and 64 MB of zeros in 64 KB, Content-Encoding: gzip',
      bytes: gzipSync(hostile.concat(jpeg, new Uint8Array(64_000_000)), { level: 9 }),
      gzip: true,
      contentType: 'image/jpeg',
      outcome: 'refused',
      because: /exceeds the 10000000-byte limit/,
    },
    // --- formats we do not read
    {
      name: 'AVIF',
      bytes: hostile.isoBmff('avif'),
      contentType: 'image/avif',
      outcome: 'refused',
      because: /not a JPEG/,
    },
    {
      name: 'HEIC',
      bytes: hostile.isoBmff('heic'),
      contentType: 'image/heic',
      outcome: 'refused',
      because: /not a JPEG/,
    },
    // --- polyglots
    {
      name: 'GIF that is also JavaScript (GIF89a/*…*/=alert())',
      bytes: hostile.gifJavascriptPolyglot(),
      outcome: 'image',
      payload: 'alert(',
    },
    {
      name: 'JPEG with a ZIP archive appended',
      bytes: hostile.concat(jpeg, hostile.zipArchive()),
      outcome: 'image',
      payload: 'PK\u0003\u0004',
    },
    {
      name: 'PNG with an HTML page and <script> after IEND',
      bytes: hostile.concat(await makePicture('hostile', 16, 16, 'png'), text(hostile.HTML_PAYLOAD)),
      outcome: 'image',
      payload: '<script>',
    },
    {
      name: 'SVG with an onload script, served as image/png',
      bytes: text(hostile.SVG_PAYLOAD),
      contentType: 'image/png',
      outcome: 'refused',
      because: /not a JPEG/,
    },
    {
      name: 'HTML page served as image/jpeg',
      bytes: text(hostile.HTML_PAYLOAD),
      contentType: 'image/jpeg',
      outcome: 'refused',
      because: /not a JPEG/,
    },
  ]
  // Truncations of a sane picture in each format: at 1, 10, 100 bytes, half way, one byte short.
  for (const format of ['jpg', 'png', 'gif', 'webp'] as const) {
    const whole = await makePicture(`truncated-${format}`, 64, 48, format)
    for (const { at, bytes } of hostile.truncations(whole)) {
      cases.push({
        name: `${format} truncated to ${at} of ${whole.length} bytes`,
        bytes,
        contentType: IMAGE_TYPES[format],
        // Refused at download when the header is cut; otherwise stored, and the decoder decides.
        outcome: 'either',
      })
    }
  }
  return cases
}

// --- the upstream ------------------------------------------------------------------------------

/** A network whose pictures are whatever its (fake) server answers: `/image/hostile/<id>`. */
const hostilePlugin = definePlugin({
  type: 'hostile',
  settings: Type.Object({
    url: Type.String({ default: 'https://hostile.invalid', env: 'HEADSHOT_HOSTILE_URL', baseUrl: true }),
  }),
  hosts: [],
  restrictedByDefault: false,
  id: { syntax: 'a number', example: '1' },
  parseId: (raw) => ok(raw),
  resolve: async (id, { settings }) => ({ kind: 'image', url: `${settings.url}/files/${id}?token=upstream-secret` }),
})

let cases: HostileCase[]
let upstream: FakeServer
let headshot: Headshot
let rssBefore: number
let placeholders: string

// Upstream failures are logged with their full detail (the URL included) by design: keep those
// lines out of the test output.
const consoleError = console.error

beforeAll(async () => {
  console.error = () => {}
  cases = await hostileCases()
  upstream = serveFake((_, url) => {
    const hostileCase = cases[Number(url.pathname.split('/').pop())]
    if (!hostileCase) return { route: 'missing', response: new Response('Not Found', { status: 404 }) }
    const sniffed = sniffFormat(hostileCase.bytes)
    const headers: Record<string, string> = {
      'content-type': hostileCase.contentType ?? (sniffed ? IMAGE_TYPES[sniffed]! : 'image/jpeg'),
    }
    if (hostileCase.gzip) headers['content-encoding'] = 'gzip'
    return { route: 'file', response: new Response(hostileCase.bytes, { headers }) }
  })
  Bun.gc(true)
  rssBefore = process.memoryUsage().rss / 1e6
  placeholders = mkdtempSync(join(tmpdir(), 'headshot-hostile-placeholders-'))
  // The production arrangement: transformations in the worker pool, not on the server's thread.
  headshot = await startHeadshot(
    {
      HEADSHOT_HOSTILE_URL: upstream.url,
      HEADSHOT_PLACEHOLDERS_DIR: placeholders,
      // One in-process client asks for all of it: no per-client allowance of new work.
      HEADSHOT_CLIENT_RATE: '0',
    },
    { plugins: [hostilePlugin], inlineDerive: false },
  )
})

afterAll(async () => {
  console.error = consoleError
  await headshot?.close()
  upstream?.stop()
  if (placeholders) rmSync(placeholders, { recursive: true, force: true })
})

/** Checks every delivery answer must pass; returns the problem or undefined. */
function problemWith(response: Response, body: Uint8Array, elapsedMs: number): string | undefined {
  const cldError = response.headers.get('x-cld-error')
  const contentType = response.headers.get('content-type') ?? ''
  if (response.status >= 500 && response.status !== 502) return `status ${response.status}: ${cldError}`
  if (response.status >= 400 && !cldError) return `${response.status} without X-Cld-Error`
  if (cldError && /127\.0\.0\.1|upstream-secret|https?:\/\//.test(cldError)) return `X-Cld-Error leaks: ${cldError}`
  if (response.headers.get('x-content-type-options') !== 'nosniff') return 'no X-Content-Type-Options: nosniff'
  if (/html|script|svg|xml/i.test(contentType)) return `Content-Type ${contentType}`
  if (response.status === 200) {
    const format = sniffFormat(body)
    if (!format || IMAGE_TYPES[format] !== contentType) return `200 ${contentType} for bytes of ${format ?? 'no image'}`
  }
  if (elapsedMs > TIME_LIMIT_MS) return `answered in ${elapsedMs.toFixed(0)} ms`
  return undefined
}

async function timedGet(path: string) {
  const started = performance.now()
  const response = await headshot.get(path)
  const body = new Uint8Array(await response.arrayBuffer())
  return { response, body, elapsedMs: performance.now() - started }
}

describe('hostile images from an upstream, through delivery', () => {
  test(
    'every file: no 500, an explained refusal or an image of its real type, nosniff, bounded time',
    async () => {
      const failures: string[] = []
      for (const [index, hostileCase] of cases.entries()) {
        // A transformation (decoded in a worker), one that needs faces (the detector decodes on its
        // own), then the original as stored (served as it is). Neither enlarges: the files' headers
        // may claim 1×1, and enlarging that much is refused for its own sake.
        const paths = [
          `/image/hostile/c_limit,h_80,w_80/${index}.jpg`,
          `/image/hostile/c_lfill,g_face,h_40,w_40/${index}.png`,
          `/image/hostile/${index}`,
        ]
        for (const path of paths) {
          const { response, body, elapsedMs } = await timedGet(path)
          const problem = problemWith(response, body, elapsedMs)
          if (problem) failures.push(`${hostileCase.name} (${path}): ${problem}`)
          const transformed = path.includes('c_')
          const cldError = response.headers.get('x-cld-error') ?? ''
          const workRefused = response.status === 400 && /^(Transformation too costly|Maximum)/.test(cldError)
          const expected =
            hostileCase.outcome === 'image'
              ? [200]
              : hostileCase.outcome === 'refused' || (hostileCase.outcome === 'undecodable' && transformed)
                ? [502]
                : hostileCase.outcome === 'undecodable'
                  ? [200] // the original as the upstream sent it, under its real type
                  : [200, 502]
          // The heavy files may also be refused for the work they would take (an explained 400).
          if (!expected.includes(response.status) && !(hostileCase.heavy && transformed && workRefused))
            failures.push(`${hostileCase.name} (${path}): ${response.status} ${cldError}, expected ${expected}`)
          if (response.status === 502 && hostileCase.because && !hostileCase.because.test(cldError))
            failures.push(`${hostileCase.name} (${path}): "${cldError}" does not say ${hostileCase.because}`)
          if (transformed && response.status === 200 && hostileCase.payload) {
            if (Buffer.from(body).includes(hostileCase.payload))
              failures.push(`${hostileCase.name}: the payload survived the transformation`)
          }
        }
      }
      expect(failures).toEqual([])
    },
    { timeout: 180_000 },
  )

  test('a polyglot original is served under its image type with nosniff, never as a page or a script', async () => {
    for (const name of ['GIF that is also JavaScript', 'PNG with an HTML page', 'JPEG with a ZIP']) {
      const index = cases.findIndex((c) => c.name.startsWith(name))
      const { response, body } = await timedGet(`/image/hostile/${index}`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe(IMAGE_TYPES[sniffFormat(body)!]!)
      expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    }
  })

  test('a 1×1 GIF screen over a 4000² frame is the 1×1 picture it decodes to: enlarging it is refused unqueued', async () => {
    const index = cases.findIndex((c) => c.name.startsWith('GIF, 1×1 screen, a real 4000×4000'))
    const derives = await headshot.metric('derives_total')
    const { response } = await timedGet(`/image/hostile/c_fill,h_80,w_80/${index}.jpg`)
    expect(response.status).toBe(400)
    expect(response.headers.get('x-cld-error')).toBe(
      'Transformation too costly: 80x80 from 1x1 (unsigned budget 8x upscaling)',
    )
    // Refused on the server thread from the stored size: no worker decoded its 16 MP frame.
    expect(await headshot.metric('derives_total')).toBe(derives)
  })

  test('hostile files in the placeholders folder (d_<name> for a missing picture): the same rules', async () => {
    const failures: string[] = []
    const picked = cases.filter((c) => c.outcome !== 'image' || c.heavy || c.payload)
    for (const [n, hostileCase] of picked.entries()) {
      const name = `hostile-${n}.${sniffFormat(hostileCase.bytes) ?? 'png'}`
      writeFileSync(join(placeholders, name), hostileCase.bytes)
      // The upstream has no file 999999 (404): the default image stands in, transformed alike.
      const { response, body, elapsedMs } = await timedGet(`/image/hostile/d_${name}/c_fill,h_80,w_80/999999.jpg`)
      const problem = problemWith(response, body, elapsedMs)
      if (problem) failures.push(`${hostileCase.name} as a placeholder: ${problem}`)
      if (![200, 400, 404, 502].includes(response.status))
        failures.push(`${hostileCase.name} as a placeholder: ${response.status} ${response.headers.get('x-cld-error')}`)
    }
    expect(failures).toEqual([])
  })

  test('the worker pool survived every file: a sane picture still transforms', async () => {
    const index = cases.findIndex((c) => c.name.startsWith('JPEG with a ZIP'))
    const { response, body } = await timedGet(`/image/hostile/c_fill,h_20,w_30/${index}.png`)
    expect(response.status).toBe(200)
    const probe = probeImage(body)
    expect(probe.ok && probe.value).toMatchObject({ format: 'png', width: 30, height: 20 })
  })
})

// --- the pipeline and a worker, without the download checks ---------------------------------------

const chain = () => {
  const parsed = parseChain('c_fill,h_80,w_80')
  if (!parsed.ok) throw parsed.error
  return parsed.value.components
}
const formatOf = (bytes: Uint8Array) => sniffFormat(bytes) ?? 'jpg'

/** What a derivation may fail with: the pipeline's own refusals, nothing else. */
function explainedFailure(error: unknown): string | undefined {
  if (error instanceof HttpError && (error.status === 400 || error.status === 502)) return undefined
  return `${(error as Error)?.name}: ${(error as Error)?.message}`
}

describe('hostile images fed straight to the pipeline (as a placeholder file would be)', () => {
  test('on the calling thread: an image or a 400/502 HttpError, in bounded time', async () => {
    const failures: string[] = []
    for (const hostileCase of cases.filter((c) => !c.heavy)) {
      const started = performance.now()
      try {
        const output = await deriveImage(
          { bytes: hostileCase.bytes, format: formatOf(hostileCase.bytes), chain: chain(), output: 'png', faces: [] },
          DEFAULT_IMAGE_LIMITS,
        )
        if (sniffFormat(output.bytes) !== 'png') failures.push(`${hostileCase.name}: not a PNG out`)
      } catch (error) {
        const problem = explainedFailure(error)
        if (problem) failures.push(`${hostileCase.name}: ${problem}`)
      }
      const elapsed = performance.now() - started
      if (elapsed > TIME_LIMIT_MS) failures.push(`${hostileCase.name}: ${elapsed.toFixed(0)} ms`)
    }
    expect(failures).toEqual([])
  })

  test(`a JPEG of more than ${MAX_JPEG_SCANS} scans is refused before decoding, however small its pixels`, async () => {
    const small = await encode({ width: 64, height: 64, data: new Uint8Array(64 * 64 * 4).fill(90) }, 'jpg', {
      quality: 80,
      progressive: true,
    })
    const bomb = hostile.jpegManyScans(small, MAX_JPEG_SCANS + 1)
    const derive = deriveImage({ bytes: bomb, format: 'jpg', chain: chain(), output: 'png', faces: [] })
    expect(derive).rejects.toMatchObject({ status: 502, message: expect.stringContaining('scans') })
    const fine = hostile.jpegManyScans(small, MAX_JPEG_SCANS)
    const output = await deriveImage({ bytes: fine, format: 'jpg', chain: chain(), output: 'png', faces: [] })
    expect(output.width).toBe(80)
  })

  test(
    'in a worker, heavy files included: the same answers, and the worker keeps serving',
    async () => {
      const pool: DerivePool = createDerivePool({
        workerUrl: new URL('../../src/workers/derive-worker.ts', import.meta.url),
        limits: DEFAULT_IMAGE_LIMITS,
        size: 1,
      })
      const failures: string[] = []
      try {
        for (const hostileCase of cases) {
          const started = performance.now()
          try {
            const input = { bytes: hostileCase.bytes, format: formatOf(hostileCase.bytes), chain: chain(), faces: [] }
            await pool.derive({ ...input, output: 'jpg' })
          } catch (error) {
            // A crashed worker rejects with a plain Error ("transformation worker failed").
            const problem = explainedFailure(error)
            if (problem) failures.push(`${hostileCase.name}: ${problem}`)
          }
          const elapsed = performance.now() - started
          if (elapsed > TIME_LIMIT_MS) failures.push(`${hostileCase.name}: ${elapsed.toFixed(0)} ms`)
        }
        const sane = await makePicture('after', 50, 50, 'jpg')
        const output = await pool.derive({ bytes: sane, format: 'jpg', chain: chain(), output: 'png', faces: [] })
        expect(output.width).toBe(80)
      } finally {
        await pool.close()
      }
      expect(failures).toEqual([])
    },
    { timeout: 180_000 },
  )
})

describe('memory', () => {
  test('once the pool is closed, the process is back within reach of where it started', async () => {
    await headshot.close()
    headshot = await startHeadshot({ HEADSHOT_HOSTILE_URL: upstream.url }, { plugins: [hostilePlugin] })
    Bun.gc(true)
    const rssAfter = process.memoryUsage().rss / 1e6
    // Decoding the 16 MP bombs grows a worker's WebAssembly memory to several hundred MB; that
    // memory goes with the worker.
    expect(rssAfter - rssBefore).toBeLessThan(400)
  })
})
