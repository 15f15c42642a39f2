/**
 * A seeded generator of delivery paths for the adversarial fuzzer (test/adversarial/fuzz.test.ts)
 * and the hostile share of the soak benchmark (bench/soak.ts).
 *
 * Paths follow the URL grammar (docs/compatibility.md): an optional cloud prefix, resource type,
 * delivery type, signature, transformation components built from every key of the parameter table
 * (`PARAMS`, src/url/params.ts) with valid, edge and invalid values, named transformations, default
 * images, a version, the public id and its extension, a query. Some are then percent-encoded,
 * double-encoded or given raw unicode, and some are mutated the way broken clients and scanners
 * mangle URLs (byte flips, segment swaps and duplicates, separators from real URLs, truncation,
 * overlong segments).
 *
 * The same seed always gives the same sequence of cases. Most cases are meant to be cheap to answer:
 * transformations come mostly from a fixed pool (so their derived images are made once and then
 * served from the store), sizes are small, and big sizes are the ones the limits refuse.
 */
import { createHash } from 'node:crypto'
import { PARAMS } from '../../src/url/params.ts'
import { CROP_MODES } from '../../src/url/types.ts'

// --- randomness --------------------------------------------------------------------------------

export interface Random {
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform integer in [0, n). */
  int(n: number): number
  pick<T>(list: readonly T[]): T
  chance(p: number): boolean
}

/** mulberry32: tiny, fast and good enough to spread cases; the whole sequence follows from the seed. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  return { next, int, pick: (list) => list[int(list.length)]!, chance: (p) => next() < p }
}

// --- the world the paths are aimed at ----------------------------------------------------------

export interface FuzzType {
  type: string
  /** Ids that exist upstream (cheap pictures) or that are valid but unknown there. */
  ids: readonly string[]
  /** Whether unsigned URLs of this type are restricted (HEADSHOT_RESTRICTED_TYPES). */
  restricted: boolean
  /** Relative share of the cases aimed at this type. */
  weight: number
}

export interface FuzzWorld {
  cloudName: string
  secret: string
  /** HEADSHOT_SIGN_TYPE: signatures cover `<type>/` too. */
  signType?: boolean
  types: readonly FuzzType[]
  /** Names defined in the named-transformations file. */
  named: readonly string[]
  /** `d_` names that exist in the placeholders folder (`:` for `/`). */
  placeholders: readonly string[]
}

/**
 * What the generator meant, so the fuzzer can check more than "no 5xx":
 * - `valid`: signed correctly for the text as sent (the server must not answer "Invalid signature");
 * - `wrong`: a well-formed signature that does not match (must never be answered with the image);
 * - `malformed`: a signature segment of the wrong shape (must never be answered with the image);
 * - `none`: unsigned.
 * Checks that depend on the intent apply to `intact` cases only: a mutation, or the URL parser
 * rewriting the path on its way into a `Request` (`..` segments, raw unicode), changes what was signed.
 */
export type SignatureIntent = 'none' | 'valid' | 'wrong' | 'malformed'

export interface FuzzCase {
  /** Position in the sequence (with the seed, enough to reproduce it). */
  index: number
  path: string
  method: 'GET' | 'HEAD'
  accept?: string
  type: string
  restricted: boolean
  signature: SignatureIntent
  mutations: string[]
  /** Not mutated, and a `Request` carries the path exactly as generated. */
  intact: boolean
}

/** Whether the WHATWG URL parser (what `new Request` applies) leaves the path exactly as written. */
function survivesUrlParser(path: string): boolean {
  try {
    const url = new URL(`http://localhost${path}`)
    return url.pathname + url.search + url.hash === path
  } catch {
    return false
  }
}

// --- values ------------------------------------------------------------------------------------

interface Values {
  /** Valid and cheap on a small picture. */
  cheap: readonly string[]
  /** Boundaries, refusals, nonsense; cheap too (big sizes here are the ones the limits refuse). */
  edge: readonly string[]
}

const SIZE: Values = {
  cheap: ['1', '8', '16', '24', '32', '40', '48', '64', '80', '0.5', '1.0', '0.25', '2.0', '1.5'],
  edge: [
    '0',
    '-1',
    '0.0',
    '100000',
    '100001',
    '4097',
    '5000',
    '99999',
    '100.0',
    '100.5',
    'auto',
    'auto:100',
    'iw',
    'ih_mul_2',
    '1e3',
    '0x10',
    '08',
    '1.',
    '.5',
    '00.5',
    'NaN',
    '0.0000001',
    '9'.repeat(30),
  ],
}
const OFFSET: Values = {
  cheap: ['0', '4', '-4', '0.5', '-0.5', '1.0', '10', '-0'],
  edge: ['100000', '100001', '1.5', '-1.5', '0.0000001', '1e2', '+4', '--4'],
}
const COMPASS = ['north_west', 'north', 'north_east', 'west', 'center', 'east', 'south_west', 'south', 'south_east']

/** Per implemented key; unimplemented keys get UNIMPLEMENTED_VALUES. */
const IMPLEMENTED_VALUES: Record<string, Values> = {
  w: SIZE,
  h: SIZE,
  c: { cheap: CROP_MODES, edge: ['auto', 'auto_pad', 'imagga_scale', 'imagga_crop', 'bogus', 'FILL', 'fill%20'] },
  g: {
    cheap: [...COMPASS, 'face', 'faces', 'face:center', 'faces:center', 'face:auto', 'faces:auto', 'auto'],
    edge: ['custom', 'auto:subject', 'xy_center', 'adv_face', 'ocr_text', 'body', 'liquid', 'face:bogus', 'North'],
  },
  x: OFFSET,
  y: OFFSET,
  z: { cheap: ['0.5', '1', '1.5', '2'], edge: ['0', '100', '101', '-1', '0.0001'] },
  dpr: { cheap: ['1', '1.5', '2', '2.0', '3'], edge: ['4', '4.5', '5', '10', '11', 'auto', '0', '0.5'] },
  q: {
    cheap: ['1', '50', '80', '100', 'auto', 'auto:good', 'auto:best', 'auto:eco', 'auto:low', '80:420', '80:444'],
    edge: ['0', '101', 'auto:sensitive', 'auto:best:sensitive', 'jpegmini', '80:422', 'auto:bogus', '1:2:3:4'],
  },
  f: {
    cheap: ['jpg', 'jpeg', 'png', 'webp', 'gif', 'auto', 'auto:image'],
    edge: ['avif', 'tiff', 'tif', 'bmp', 'ico', 'heic', 'jxl', 'svg', 'auto:video', 'bogus', 'JPG'],
  },
  ar: {
    cheap: ['1:1', '16:9', '4:3', '1.5', '0.5', '3:4'],
    edge: ['0.001', '1000', '1001', '0:1', '1:0', '1:2:3', '0.0009', '100000:1'],
  },
  r: { cheap: ['max', '0', '4', '8', '4:8', '1:2:3:4'], edge: ['99999', '100001', '1:2:3:4:5', 'max:1', '-1'] },
  a: {
    cheap: ['0', '90', '-90', '180', '270', '45', '-45', 'hflip', 'vflip', 'hflip.90', 'auto_right', 'ignore', '360'],
    edge: ['361', '-361', 'exif', 'hflip.vflip.90.90.90.90.90.90.90', '1.2.3.4.5.6.7.8.9', 'bogus', '90.', 'auto_left'],
  },
  e: {
    cheap: [
      'grayscale',
      'negate',
      'sepia',
      'sepia:50',
      'blur',
      'blur:50',
      'blur:300',
      'pixelate',
      'pixelate:4',
      'brightness:20',
      'brightness:-50',
      'contrast',
      'contrast:50',
      'contrast:level_50;type_sigmoidal',
      'saturation:-100',
      'sharpen',
      'sharpen:200',
      'vignette',
      'vignette:50',
      'blackwhite',
      'blackwhite:30',
      'blur_faces',
      'pixelate_faces:5',
    ],
    edge: [
      'blur:2000',
      'sharpen:2000',
      'pixelate:2000',
      'blur:0',
      'blur:2001',
      'grayscale:5',
      'contrast:level_50;type_linear',
      'contrast:level_;',
      'contrast:level_50;level_60',
      'oil_paint',
      'hue:40',
      'bogus',
      ':',
      'sepia:101',
      'brightness:-100',
      'vignette:101',
      'pixelate_faces:201',
      '__proto__',
      'constructor',
    ],
  },
  bo: {
    cheap: ['1px_solid_red', '2px_solid_rgb:00ff0080', '3px_solid_black', '1px_solid_rgb:f00'],
    edge: [
      '0px_solid_red',
      '4px_dashed_red',
      '4px_solid_',
      '99999px_solid_red',
      '100001px_solid_red',
      '4px_solid_transparent',
      '4px_solid_rgb:ggg',
      'px_solid_red',
      '4px_solid_',
    ],
  },
  b: {
    cheap: ['red', 'blue', 'rgb:ff0000', 'rgb:f008', 'rgb:ff000080', 'transparent', 'white', 'black'],
    edge: ['none', 'auto', 'auto:predominant', 'blurred', 'gen_fill', 'rgb:ggg', 'rgb:', '%23fff', 'rgb:ff00000'],
  },
  o: { cheap: ['0', '50', '100', '99'], edge: ['101', '-1', '50.5', '1e2'] },
  fl: {
    cheap: [
      'progressive',
      'attachment',
      'attachment:my_pic',
      'lossy',
      'strip_profile',
      'keep_iptc',
      'preserve_transparency',
      'immutable_cache',
      'ignore_aspect_ratio',
      'progressive.lossy',
      'getinfo',
      'force_strip',
      'keep_attribution',
    ],
    edge: [
      'png8',
      'animated',
      'awebp',
      'progressive:semi',
      'progressive:steep',
      'nope',
      'attachment:a.b',
      'attachment:my%20pic',
      'attachment:',
      'attachment:a:b',
      'attachment:x.attachment:y',
      'getinfo.attachment',
      'layer_apply',
      'sanitize',
      `attachment:${'a'.repeat(101)}`,
      'attachment:%3Cscript%3E',
      'attachment:%22%0d%0a',
    ],
  },
  // t and d: filled from the world (defined names and placeholders) at generation time.
  t: { cheap: [], edge: ['missing', 'a.b', 'x'.repeat(65), '..', 'a..b', '%2e', 'a.b.c.d.e.f.g.h.i.j.k'] },
  d: {
    cheap: [],
    edge: ['missing.png', 'avatars:..:x.png', '..', '.:x', 'a:..:b', '%2e%2e', 'a%2Fb', 'x'.repeat(256), ':', ''],
  },
}
const UNIMPLEMENTED_VALUES: Values = {
  cheap: ['1', 'x', 'sample', 'red'],
  edge: ['text:Arial_20:hi', 'w_gt_100', 'fetch:aHR0cDovLzEyNy4wLjAuMS8', '300', 'srgb', ''],
}
/** Values any key may get now and then: the shapes that break number and token parsers. */
const WEIRD = [
  '',
  '-0',
  '00',
  'Infinity',
  '-Infinity',
  '%20',
  '%zz',
  '%',
  '%00',
  '%0d%0a',
  '%E2%80%AE',
  '%F0%9F%98%80',
  '%C0%AE',
  '%2F',
  '%252F',
  '..',
  '$x',
  '$%7Bx%7D',
  'a_b',
  '1:2:3:4:5:6',
  ';',
  '!',
  '~',
  'é',
  '\u202e',
  '%u0041',
  '1'.repeat(200),
]
/**
 * Components whose output is over the limits (4096 px a side, 16 MP) whatever the source: they
 * must be refused from the plan, before any pixel is decoded.
 */
const OVERSIZED = [
  'c_scale,w_5000',
  'c_fill,h_4097,w_10',
  'c_pad,h_10,w_8000',
  'c_scale,dpr_4,w_1100',
  'bo_2100px_solid_red',
  'c_lpad,h_99999,w_99999',
]
/** Keys outside the table: variables, misspellings, shapes that are not `key_value`. */
const OTHER_TOKENS = [
  '$w_100',
  '$foo_3',
  '$_1',
  'zz_1',
  'W_100',
  'width_100',
  'w',
  '_100',
  'w__1',
  'q-80',
  'w_1_2',
  'w:100',
  'c_fill,',
  ',w_10',
]

/** Every key of the parameter table, with the values the generator uses for it. */
export const FUZZ_KEYS: readonly string[] = [...PARAMS.keys()]
const IMPLEMENTED = FUZZ_KEYS.filter((key) => PARAMS.get(key)?.implemented)
const UNIMPLEMENTED = FUZZ_KEYS.filter((key) => !PARAMS.get(key)?.implemented)
/** Geometry keys come up more often: they are what avatars are made of. */
const COMMON_KEYS = ['w', 'h', 'c', 'g', 'c', 'w', 'h', 'q', 'f', 'e', 'r', 'dpr']

function valuesOf(key: string, world: FuzzWorld): Values {
  if (key === 't') return { cheap: world.named, edge: IMPLEMENTED_VALUES.t!.edge }
  if (key === 'd') return { cheap: world.placeholders, edge: IMPLEMENTED_VALUES.d!.edge }
  return IMPLEMENTED_VALUES[key] ?? UNIMPLEMENTED_VALUES
}

// --- ids, extensions, versions, queries ----------------------------------------------------------

/** Ids that must never reach a store or an upstream as they are: traversal, escapes, injections, junk. */
const HOSTILE_IDS = [
  '..',
  '.',
  '%2e%2e',
  '%2E',
  '..%2f..%2fetc%2fpasswd',
  'a/../b',
  'a/./b',
  '....//x',
  '%00',
  'x%00.jpg',
  '%zz',
  '%',
  '%C0%AE%C0%AE',
  '%E2%80%AE',
  '%F0%9F%98%80',
  'ñ',
  '😀',
  'x'.repeat(300),
  '%252e%252e',
  'http://127.0.0.1/x',
  'https:/%2F169.254.169.254/latest/meta-data',
  'file:///etc/passwd',
  '%3Cscript%3Ealert(1)%3C/script%3E',
  '%22onerror=alert(1)',
  '%27',
  '%5C..%5C',
  'CON',
  'a;b',
  '~root',
  '$HOME',
  '$%7Bjndi:ldap://x%7D',
  '%0d%0aSet-Cookie:x=1',
  'a%2Fb',
  'v1',
  's--AAAAAAAA--',
  'w_100',
  '%20',
  '+',
  '*',
  'did:plc:%00',
  '__proto__',
  'constructor',
]
const EXTENSIONS = ['', '', '', '.jpg', '.png', '.webp', '.gif', '.jpeg', '.JPG']
const ODD_EXTENSIONS = ['.avif', '.tiff', '.svg', '.html', '.bmp', '.heic', '.js', '.jpg.php', '.', '..jpg', '.jpg%00']
const VERSIONS = ['v1', 'v1700000000', 'v0', 'v2']
const ODD_VERSIONS = ['v99999999999999999999', 'v', 'V1', 'v-1', 'v1.5', 'v0x10', `v${'9'.repeat(400)}`]
const QUERIES = ['?_a=BAVAfVDd0', '?x=%zz', '?', '#frag', '?a=1&b=2', '?s--AAAAAAAA--', '?../../x']
const ACCEPTS = ['image/webp,*/*', 'image/avif,image/webp,*/*', '*/*', 'text/html', 'image/*;q=0']

// --- signatures ----------------------------------------------------------------------------------

/** The SDK's signature of `toSign`: url-safe base64 of HASH(toSign + secret), cut to `length`. */
function sdkSignature(toSign: string, secret: string, algorithm: 'sha1' | 'sha256', length: number): string {
  return createHash(algorithm)
    .update(toSign + secret)
    .digest('base64')
    .slice(0, length)
    .replaceAll('/', '_')
    .replaceAll('+', '-')
}

const SIGNATURE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const MALFORMED_SIGNATURES = [
  's----',
  's--AAAAAAA--',
  's--AAAAAAAAA--',
  's--!!!!!!!!--',
  's--AAAAAAAA-',
  's-AAAAAAAA--',
]

// --- mutations -----------------------------------------------------------------------------------

/** What a mutation may drop in: separators and pieces of real delivery URLs, and bytes that break them. */
const SEPARATORS = [
  '/',
  ',',
  '_',
  ':',
  '.',
  '%',
  '--',
  's--',
  'v1/',
  '..',
  '../',
  '%2F',
  '%2f',
  '%00',
  '%25',
  '?',
  '#',
  '~',
  ';',
  '$',
  '//',
  '\\',
  '@',
  '&',
  '=',
  '+',
  ' ',
  'é',
  '\u202e',
  '\ufeff',
  '／',
  '‥',
  '%C0%AF',
  'c_fill,',
  'w_',
  '/image/',
  'fl_getinfo/',
  't_',
  'd_',
  '.jpg',
]
const MUTATION_CHARS = `abcxyzABC0123456789/_,:.%-~;$@!*'()[]{}|\\^\`"<> éñ😀\u0000\u0001\u007f\u00a0`

type Mutation = (path: string, random: Random) => string

function segmentsOf(path: string): string[] {
  return path.slice(1).split('/')
}
const fromSegments = (segments: readonly string[]) => `/${segments.join('/')}`
const somewhere = (path: string, random: Random) => 1 + random.int(Math.max(1, path.length - 1))

const MUTATIONS: Record<string, Mutation> = {
  flip(path, random) {
    const at = somewhere(path, random)
    return path.slice(0, at) + random.pick([...MUTATION_CHARS]) + path.slice(at + 1)
  },
  delete(path, random) {
    const at = somewhere(path, random)
    return path.slice(0, at) + path.slice(at + 1 + random.int(4))
  },
  insert(path, random) {
    const at = somewhere(path, random)
    return path.slice(0, at) + random.pick(SEPARATORS) + path.slice(at)
  },
  swap(path, random) {
    const segments = segmentsOf(path)
    const i = random.int(segments.length)
    const j = random.int(segments.length)
    ;[segments[i], segments[j]] = [segments[j]!, segments[i]!]
    return fromSegments(segments)
  },
  duplicate(path, random) {
    const segments = segmentsOf(path)
    const i = random.int(segments.length)
    segments.splice(i, 0, segments[i]!)
    return fromSegments(segments)
  },
  drop(path, random) {
    const segments = segmentsOf(path)
    segments.splice(random.int(segments.length), 1)
    return fromSegments(segments)
  },
  truncate(path, random) {
    return path.slice(0, somewhere(path, random))
  },
  case(path, random) {
    const segments = segmentsOf(path)
    const i = random.int(segments.length)
    const s = segments[i]!
    segments[i] = random.chance(0.5) ? s.toUpperCase() : s.toLowerCase()
    return fromSegments(segments)
  },
  /** Overlong: one segment repeated past the path limit (2 KB), or a segment made huge. */
  inflate(path, random) {
    const segments = segmentsOf(path)
    const i = random.int(segments.length)
    const times = 2 + random.int(random.chance(0.5) ? 8 : 200)
    segments.splice(i, 1, ...Array.from({ length: times }, () => segments[i]!))
    return fromSegments(segments)
  },
}
const MUTATION_NAMES = Object.keys(MUTATIONS)

// --- encodings -----------------------------------------------------------------------------------

const hex = (code: number, random: Random) => {
  const text = code.toString(16).padStart(2, '0')
  return `%${random.chance(0.5) ? text.toUpperCase() : text}`
}

/** Percent-encodes some characters that need no encoding (servers must treat `%5F` and `_` consistently). */
function encodeSome(text: string, random: Random): string {
  let out = ''
  for (const ch of text) {
    out += /^[A-Za-z0-9_,.:-]$/.test(ch) && random.chance(0.15) ? hex(ch.charCodeAt(0), random) : ch
  }
  return out
}

const ENCODINGS: Record<string, (text: string, random: Random) => string> = {
  some: encodeSome,
  /** Every `%` escaped again: `%2F` → `%252F`. */
  double: (text, random) => encodeSome(text, random).replaceAll('%', '%25'),
  /** One `/` hidden as `%2F`. */
  slash: (text, random) => {
    const slashes = [...text.matchAll(/\//g)].map((m) => m.index)
    if (slashes.length === 0) return text
    const at = random.pick(slashes)
    return `${text.slice(0, at)}${random.pick(['%2F', '%2f', '%252F', '%5C'])}${text.slice(at + 1)}`
  },
  /** Raw non-ASCII (the URL parser percent-encodes it as UTF-8 on the way in). */
  unicode: (text, random) => {
    const at = random.int(text.length + 1)
    return text.slice(0, at) + random.pick(['é', '😀', '\u202e', '\ufeff', 'Ⅰ', 'ﬁ', 'ｗ_１００']) + text.slice(at)
  },
  /** Overlong UTF-8 and lone surrogates, escaped: invalid UTF-8 must be refused, never decoded into `.` or `/`. */
  overlong: (text, random) => {
    const at = random.int(text.length + 1)
    return (
      text.slice(0, at) + random.pick(['%C0%AE', '%C0%AF', '%E0%80%AE', '%ED%A0%80', '%F4%90%80%80']) + text.slice(at)
    )
  },
}
const ENCODING_NAMES = Object.keys(ENCODINGS)

// --- the generator -------------------------------------------------------------------------------

export interface PathFuzzer {
  next(): FuzzCase
  /** How often each table key (and the other shapes) was written, for coverage checks. */
  readonly coverage: ReadonlyMap<string, number>
}

export interface PathFuzzerOptions {
  /** Transformations reused by most cases (their derived images are made once). Default 80. */
  poolSize?: number
  /** Share of cases with a fresh (never pooled) chain of cheap and edge values. Default 0.03. */
  freshShare?: number
  /** Share of cases that are mutated after generation. Default 0.3. */
  mutateShare?: number
}

export function createPathFuzzer(world: FuzzWorld, seed: number, options: PathFuzzerOptions = {}): PathFuzzer {
  const random = seededRandom(seed)
  const coverage = new Map<string, number>()
  const count = (what: string) => coverage.set(what, (coverage.get(what) ?? 0) + 1)
  const totalWeight = world.types.reduce((sum, t) => sum + t.weight, 0)
  const freshShare = options.freshShare ?? 0.03
  const mutateShare = options.mutateShare ?? 0.3

  /** The keys written into the chain being built (counted in `coverage` each time it is sent). */
  let written: string[] = []

  function token(key: string, cheapOnly: boolean): string {
    const values = valuesOf(key, world)
    written.push(`key:${key}`)
    const useCheap = values.cheap.length > 0 && random.chance(cheapOnly ? 0.95 : 0.88)
    const value = useCheap
      ? random.pick(values.cheap)
      : random.chance(0.85) && values.edge.length > 0
        ? random.pick(values.edge)
        : random.pick(WEIRD)
    return `${key}_${value}`
  }

  function component(cheapOnly: boolean): string {
    const n = random.chance(0.9) ? 1 + random.int(3) : 4 + random.int(4)
    const tokens: string[] = []
    for (let i = 0; i < n; i++) {
      const roll = random.next()
      if (roll < 0.55) tokens.push(token(random.pick(COMMON_KEYS), cheapOnly))
      else if (roll < 0.95) tokens.push(token(random.pick(IMPLEMENTED), cheapOnly))
      else if (roll < 0.975) tokens.push(token(random.pick(UNIMPLEMENTED), cheapOnly))
      else {
        written.push('other-token')
        tokens.push(random.pick(OTHER_TOKENS))
      }
    }
    return tokens.join(',')
  }

  interface Chain {
    components: string[]
    /** What `coverage` counts when the chain is sent. */
    keys: string[]
  }

  function chain(cheapOnly: boolean): Chain {
    written = []
    const roll = random.next()
    const n = roll < 0.15 ? 0 : roll < 0.75 ? 1 : roll < 0.93 ? 2 : roll < 0.99 ? 3 : 19 + random.int(4)
    return { components: Array.from({ length: n }, () => component(cheapOnly)), keys: written }
  }

  // The pool of random chains, and one chain per key of the table, so that every run covers them all.
  const poolSize = options.poolSize ?? 80
  const pool = Array.from({ length: poolSize }, () => chain(false))
  const perKey = FUZZ_KEYS.map((key): Chain => {
    written = []
    return { components: [token(key, false)], keys: written }
  })

  function pickType(): FuzzType {
    let roll = random.next() * totalWeight
    for (const t of world.types) {
      roll -= t.weight
      if (roll < 0) return t
    }
    return world.types[world.types.length - 1]!
  }

  /**
   * What the SDK signs: the transformation and the id, as sent (still escaped), without the version.
   * Only `v<digits>` is a version; `v-1` or `V1` is the start of the public id, and signed.
   */
  const signedTextOf = (rest: string, version: string | undefined) =>
    version === undefined || !/^v\d+$/.test(version) ? rest : rest.replace(`${version}/`, '')

  function signatureFor(type: string, signedText: string): string {
    const text = world.signType ? `${type}/${signedText}` : signedText
    const roll = random.next()
    if (roll < 0.8) return `s--${sdkSignature(text, world.secret, 'sha1', 8)}--`
    if (roll < 0.9) return `s--${sdkSignature(text, world.secret, 'sha256', 8)}--`
    return `s--${sdkSignature(text, world.secret, 'sha256', 32)}--`
  }

  let index = 0
  let previousSigned = 'c_fill,w_10/x.jpg'

  function generate(): FuzzCase {
    const target = random.chance(0.97) ? pickType() : undefined
    const type = target?.type ?? random.pick(['myspace', 'Face-Book', 'image', '', 'facebook%00', 'ｆacebook'])
    if (!target) count('type:other')

    // Transformations: mostly from the pool, some fresh, some with named/default/getinfo forms.
    const source = random.next()
    const picked =
      source < freshShare ? chain(true) : source < freshShare + 0.04 ? random.pick(perKey) : random.pick(pool)
    for (const key of picked.keys) count(key)
    const components = [...picked.components]
    if (random.chance(0.03)) components.push('fl_getinfo')
    if (random.chance(0.02)) {
      count('oversized')
      components.splice(random.int(components.length + 1), 0, random.pick(OVERSIZED))
    }

    const idRoll = random.next()
    let id: string
    if (target && target.ids.length > 0 && idRoll < 0.94) id = random.pick(target.ids)
    else {
      count('id:hostile')
      id = random.pick(HOSTILE_IDS)
    }
    const extension = random.chance(0.97) ? random.pick(EXTENSIONS) : random.pick(ODD_EXTENSIONS)
    let version: string | undefined
    if (random.chance(0.2)) version = random.chance(0.9) ? random.pick(VERSIONS) : random.pick(ODD_VERSIONS)

    let rest = [...components, ...(version ? [version] : []), `${id}${extension}`].join('/')
    if (random.chance(0.1)) {
      const encoding = random.pick(ENCODING_NAMES)
      count(`encoding:${encoding}`)
      rest = ENCODINGS[encoding]!(rest, random)
      if (version !== undefined && !rest.split('/').includes(version)) version = undefined
    }

    // Signature: restricted types mostly signed, open ones mostly not; some wrong or malformed.
    const restricted = target?.restricted ?? false
    const signedText = signedTextOf(rest, version)
    let signature: SignatureIntent = 'none'
    let signatureSegment: string | undefined
    const sigRoll = random.next()
    const signedShare = restricted ? 0.8 : 0.1
    if (sigRoll < signedShare) {
      signature = 'valid'
      signatureSegment = signatureFor(type, signedText)
    } else if (sigRoll < signedShare + 0.05) {
      signature = 'wrong'
      signatureSegment = random.chance(0.5)
        ? `s--${Array.from({ length: 8 }, () => random.pick([...SIGNATURE_ALPHABET])).join('')}--`
        : previousSigned === signedText
          ? 's--AAAAAAAA--'
          : signatureFor(type, previousSigned) // a genuine signature replayed on another path
    } else if (sigRoll < signedShare + 0.08) {
      signature = 'malformed'
      signatureSegment = random.pick(MALFORMED_SIGNATURES)
    }
    count(`signature:${signature}`)
    previousSigned = signedText

    const roll = random.next()
    const prefix =
      roll < 0.4
        ? `/${world.cloudName}`
        : roll < 0.9
          ? ''
          : roll < 0.93
            ? `/res/${world.cloudName}`
            : random.pick(['/other', `/${world.cloudName.toUpperCase()}`, '/res', '//', '/..'])
    const resourceType = random.chance(0.98)
      ? 'image'
      : random.pick(['video', 'raw', 'images', '', 'IMAGE', 'image%2F'])
    let path = `${prefix}/${resourceType}/${type}/${signatureSegment ? `${signatureSegment}/` : ''}${rest}`
    if (random.chance(0.05)) path += random.pick(QUERIES)

    const mutations: string[] = []
    if (random.chance(mutateShare)) {
      const n = 1 + random.int(3)
      for (let i = 0; i < n; i++) {
        const name = random.pick(MUTATION_NAMES)
        mutations.push(name)
        count(`mutation:${name}`)
        path = MUTATIONS[name]!(path, random)
      }
      if (!path.startsWith('/')) path = `/${path}`
    }

    const fuzzCase: FuzzCase = {
      index: index++,
      path,
      method: random.chance(0.05) ? 'HEAD' : 'GET',
      type,
      restricted,
      signature,
      mutations,
      intact: mutations.length === 0 && survivesUrlParser(path),
    }
    if (random.chance(0.2)) fuzzCase.accept = random.pick(ACCEPTS)
    return fuzzCase
  }

  return { next: generate, coverage }
}
