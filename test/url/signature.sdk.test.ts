/**
 * URLs generated here, now, by the official `cloudinary` SDK with random secrets: every one must
 * parse into what the options said, verify with its secret (and no other), and stop verifying
 * when any signed character changes.
 */
import { describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { v2 as cloudinary } from 'cloudinary'
import { canonicalChain } from '../../src/url/canonical.ts'
import { parseChain } from '../../src/url/component.ts'
import { parseDeliveryPath } from '../../src/url/parse.ts'
import { verifyDeliverySignature } from '../../src/url/signature.ts'
import type { DeliveryRequest } from '../../src/url/types.ts'
import { unwrap } from '../support/url.ts'

type Options = Record<string, unknown>

/** SDK options → the canonical chain our parser must read from the URL they produce. */
const OPTION_CASES: Array<[string, Options, string]> = [
  ['no transformation', {}, ''],
  ['fill on the face', { width: 80, height: 120, crop: 'fill', gravity: 'face' }, 'c_fill,g_face,h_120,w_80'],
  [
    'thumb on all faces, zoomed',
    { crop: 'thumb', gravity: 'faces', width: 150, height: 150, zoom: 0.7 },
    'c_thumb,g_faces,h_150,w_150,z_0.7',
  ],
  [
    'auto gravity and aspect ratio',
    { crop: 'fill', gravity: 'auto', aspect_ratio: '16:9', width: 400 },
    `ar_${16 / 9},c_fill,g_auto,w_400`,
  ],
  [
    'pad with an RGBA background',
    { crop: 'pad', background: '#ff000080', width: 100, height: 100 },
    'b_rgb:ff000080,c_pad,h_100,w_100',
  ],
  [
    'lpad placed north-east',
    { crop: 'lpad', gravity: 'north_east', width: 100, height: 50, background: 'white' },
    'b_rgb:ffffffff,c_lpad,g_north_east,h_50,w_100',
  ],
  [
    'crop with offsets',
    { crop: 'crop', gravity: 'north', x: -10, y: 0.5, width: 50, height: 50 },
    'c_crop,g_north,h_50,w_50,x_-10,y_0.5',
  ],
  [
    'face:center fallback',
    { crop: 'fill', gravity: 'face:center', width: 64, height: 64, format: 'jpg' },
    'c_fill,g_face:center,h_64,w_64',
  ],
  ['sepia with a level', { effect: 'sepia:50' }, 'e_sepia:50'],
  ['pixelate as an array', { effect: ['pixelate', 20] }, 'e_pixelate:20'],
  ['blur_faces with its default', { effect: 'blur_faces' }, 'e_blur_faces:500'],
  ['round', { radius: 'max' }, 'r_max'],
  ['three radii', { radius: [20, 0, 40] }, 'r_20:0:40:0'],
  ['flip and rotate', { angle: ['hflip', 45] }, 'a_hflip.45'],
  ['border', { border: { width: 3, color: '#00ff00' } }, 'bo_3px_solid_rgb:00ff00ff'],
  ['opacity on black', { opacity: 50, background: 'black' }, 'b_rgb:000000ff,o_50'],
  ['dpr 2.0 (a string)', { dpr: '2.0', width: 100, crop: 'scale' }, 'c_scale,dpr_2,w_100'],
  ['dpr 2 (a number)', { dpr: 2, width: 100, crop: 'scale' }, 'c_scale,dpr_2,w_100'],
  ['auto quality and format', { quality: 'auto:eco', fetch_format: 'auto' }, 'f_auto,q_auto:eco'],
  ['fixed quality', { quality: 80 }, 'q_80'],
  ['flags', { flags: ['progressive', 'lossy'] }, 'fl_lossy.progressive'],
  ['attachment with a space', { flags: 'attachment:my file' }, 'fl_attachment:my file'],
  [
    'chained components and a format',
    {
      transformation: [
        { width: 200, height: 200, crop: 'thumb', gravity: 'face', radius: 'max' },
        { effect: 'grayscale' },
      ],
      format: 'png',
    },
    'c_thumb,g_face,h_200,r_max,w_200/e_grayscale',
  ],
  [
    'url-gen style, one action per component',
    {
      transformation: [
        { crop: 'thumb', gravity: 'face', width: 150, height: 150, zoom: 0.7 },
        { radius: 'max' },
        { fetch_format: 'auto' },
        { quality: 'auto' },
      ],
    },
    'c_thumb,g_face,h_150,w_150,z_0.7/r_max/f_auto/q_auto:good',
  ],
  [
    'empty components dropped',
    { transformation: [{ crop: 'fill', width: 100, height: 100 }, {}, { radius: 'max' }] },
    'c_fill,h_100,w_100/r_max',
  ],
  ['named transformations', { transformation: ['avatar', 'round'] }, 't_avatar.round'],
  ['named with other params', { transformation: 'avatar', width: 100, crop: 'fill' }, 'c_fill,t_avatar,w_100'],
  [
    'default image',
    { default_image: 'avatars:default.png', crop: 'thumb', gravity: 'face', width: 100, height: 100 },
    'c_thumb,d_avatars:default.png,g_face,h_100,w_100',
  ],
  ['relative width 1.0', { width: '1.0', crop: 'scale' }, 'c_scale,w_1.0'],
  ['relative width 0.5', { width: 0.5, crop: 'scale' }, 'c_scale,w_0.5'],
  ['long signature', { long_url_signature: true, width: 50, crop: 'scale' }, 'c_scale,w_50'],
  ['8-character sha256', { signature_algorithm: 'sha256', effect: 'grayscale' }, 'e_grayscale'],
  ['explicit version and format', { version: 1573726751, format: 'png' }, ''],
]

/** Public ids (and the type they are typical for), including every case the SDKs escape differently. */
const IDS: Array<[string, string]> = [
  ['65646572251', 'facebook'],
  ['john doe', 'twitter_name'],
  ['Jürgen', 'twitter_name'],
  ['a+b', 'twitter_name'],
  ['folder/pic', 'upload'],
  ['x/y z', 'upload'],
  ['john.smith', 'facebook'],
  ['@handle', 'twitter_name'],
  ["a(b)!*'", 'twitter_name'],
  ['a?b#c', 'twitter_name'],
  ['e3264cf16f34ecd3c7c564f5668cbc1e', 'gravatar'],
]

/** Host forms the SDK emits: cloud in the path, private CDN (no cloud), relative `/res/<cloud>`. */
const HOSTS: Options[] = [{}, { private_cdn: true, secure_distribution: 'img.example.com' }, { cloud_name: '/demo' }]

const randomSecret = (): string => randomBytes(20).toString('base64url')

interface Generated {
  path: string
  secret: string
  id: string
  type: string
  options: Options
  expectedChain: string
}

function generate(caseIndex: number, idIndex: number): Generated {
  const [, options, expectedChain] = OPTION_CASES[caseIndex] ?? ['', {}, '']
  const [id, type] = IDS[idIndex] ?? ['', '']
  const secret = randomSecret()
  const host = HOSTS[(caseIndex + idIndex) % HOSTS.length] ?? {}
  const url = cloudinary.url(id, {
    type,
    sign_url: true,
    urlAnalytics: false,
    cloud_name: 'demo',
    api_secret: secret,
    ...host,
    ...structuredClone(options),
  })
  // Keep the raw text: a URL parser would normalise the escaping that the signature covers.
  const path = url.startsWith('/') ? url : url.slice(url.indexOf('/', url.indexOf('://') + 3))
  return { path, secret, id, type, options, expectedChain }
}

const parseGenerated = (g: Generated): DeliveryRequest => unwrap(parseDeliveryPath(g.path, { cloudName: 'demo' }))

describe('every SDK URL parses into what its options said, and verifies', () => {
  OPTION_CASES.forEach(([name], caseIndex) => {
    test(`${name} × ${IDS.length} ids`, () => {
      IDS.forEach((_, idIndex) => {
        const g = generate(caseIndex, idIndex)
        const request = parseGenerated(g)
        const format = g.options.format as string | undefined
        const version = (g.options.version as number | undefined) ?? (g.id.includes('/') ? 1 : undefined)
        expect({
          path: g.path,
          type: request.type,
          publicId: request.publicId,
          extension: request.extension,
          version: request.version,
        }).toEqual({ path: g.path, type: g.type, publicId: g.id, extension: format as 'png' | undefined, version })
        expect({ path: g.path, chain: canonicalChain(request.components) }).toEqual({
          path: g.path,
          chain: g.expectedChain,
        })
        // the canonical key parses back to the same components
        expect(unwrap(parseChain(canonicalChain(request.components))).components).toEqual(
          request.components.filter((c) => Object.keys(c).length > 0),
        )

        const signature = request.signature
        expect(signature?.value).toHaveLength(g.options.long_url_signature === true ? 32 : 8)
        if (signature === undefined) return
        expect({ path: g.path, valid: verifyDeliverySignature(signature, g.secret) }).toEqual({
          path: g.path,
          valid: true,
        })
        expect(verifyDeliverySignature(signature, randomSecret())).toBe(false)
      })
    })
  })
})

/** Outcome of a tampered URL: anything but a valid signature is fine. */
function stillValid(path: string, secret: string): boolean {
  const request = parseDeliveryPath(path, { cloudName: 'demo' })
  return request.ok && request.value.signature !== undefined && verifyDeliverySignature(request.value.signature, secret)
}

describe('tampering with any signed character breaks the signature', () => {
  OPTION_CASES.forEach(([name], caseIndex) => {
    test(name, () => {
      const g = generate(caseIndex, caseIndex % IDS.length)
      const request = parseGenerated(g)
      const signatureStart = g.path.indexOf('/s--') + 4
      // The version is deliberately not signed (SDK behaviour, checked in signature.test.ts).
      const versionSegment = request.version === undefined ? undefined : `/v${request.version}/`
      const versionStart = versionSegment === undefined ? -1 : g.path.indexOf(versionSegment, signatureStart)
      const versionEnd = versionStart < 0 ? -1 : versionStart + (versionSegment?.length ?? 0) - 1

      let tried = 0
      for (let i = signatureStart; i < g.path.length; i++) {
        if (i > versionStart && i < versionEnd) continue
        const replacement = g.path[i] === 'a' ? 'b' : 'a'
        const tampered = g.path.slice(0, i) + replacement + g.path.slice(i + 1)
        expect({ tampered, valid: stillValid(tampered, g.secret) }).toEqual({ tampered, valid: false })
        tried++
      }
      expect(tried).toBeGreaterThan(10)
      expect(stillValid(g.path, g.secret)).toBe(true)
    })
  })
})
