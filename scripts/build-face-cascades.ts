/**
 * Build-time converter: OpenCV Haar cascade XML (Debian `opencv-data`, Intel/BSD licence) →
 * the compact binary cascade embedded in `src/image/faces/cascades.gen.ts` (base64), which is all
 * the run time needs (CI and the compiled binary have no opencv-data). Converts the frontal-face
 * `alt2` and `default` cascades and the `eye` cascade; only numbers are carried over, unchanged.
 * A test (test/image/faces/parts.test.ts) checks the embedded data against the XML when present.
 *
 *   apt-get install -y opencv-data
 *   bun run scripts/build-face-cascades.ts [/usr/share/opencv4/haarcascades]
 *
 * Binary layout (little-endian), read by `src/image/faces/cascade.ts`:
 *   "HSC1" | u8 winW | u8 winH | u16 nStages | u16 nFeatures | u32 nWeak | u32 nNodes | u32 nLeaves
 *   stages   × (u16 nWeak, f32 threshold)
 *   weak     × (u8 nNodes, u8 nLeaves)
 *   nodes    × (i8 left, i8 right, u16 feature, f32 threshold)     (child ≤ 0 = leaf −child)
 *   leaves   × f32
 *   features × (u8 nRects, nRects × (u8 x, u8 y, u8 w, u8 h, i8 weight))
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const SOURCES: Record<string, string> = {
  alt2: 'haarcascade_frontalface_alt2.xml',
  default: 'haarcascade_frontalface_default.xml',
  eye: 'haarcascade_eye.xml',
}

interface Node {
  tag: string
  children: Node[]
  text: string
}

/** Minimal XML reader for OpenCV's FileStorage files (elements, text, comments; no attributes needed). */
function parseXml(src: string): Node {
  const root: Node = { tag: '#root', children: [], text: '' }
  const stack = [root]
  const re = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<\/([^>\s]+)\s*>|<([^>\s/]+)[^>]*?(\/?)>|([^<]+)/g
  for (const m of src.matchAll(re)) {
    if (m[1]) stack.pop()
    else if (m[2]) {
      const n: Node = { tag: m[2], children: [], text: '' }
      stack[stack.length - 1]!.children.push(n)
      if (!m[3]) stack.push(n)
    } else if (m[4]) stack[stack.length - 1]!.text += m[4]
  }
  return root
}
const child = (n: Node, tag: string) => {
  const c = n.children.find((x) => x.tag === tag)
  if (!c) throw new Error(`missing <${tag}> in <${n.tag}>`)
  return c
}
const nums = (n: Node) => n.text.trim().split(/\s+/).filter(Boolean).map(Number)

export function convert(xml: string): Uint8Array {
  const cascade = child(child(parseXml(xml), 'opencv_storage'), 'cascade')
  if (child(cascade, 'featureType').text.trim() !== 'HAAR') throw new Error('only HAAR cascades')
  const winW = nums(child(cascade, 'width'))[0]!
  const winH = nums(child(cascade, 'height'))[0]!
  const stages: { thr: number; weak: { nodes: number[][]; leaves: number[] }[] }[] = []
  for (const s of child(cascade, 'stages').children) {
    const weak = child(s, 'weakClassifiers').children.map((w) => {
      const raw = nums(child(w, 'internalNodes'))
      const nodes: number[][] = []
      for (let i = 0; i < raw.length; i += 4) nodes.push(raw.slice(i, i + 4))
      return { nodes, leaves: nums(child(w, 'leafValues')) }
    })
    stages.push({ thr: nums(child(s, 'stageThreshold'))[0]!, weak })
  }
  const features = child(cascade, 'features').children.map((f) => {
    const tilted = f.children.find((x) => x.tag === 'tilted')
    if (tilted && nums(tilted)[0]) throw new Error('tilted features are not supported')
    return child(f, 'rects').children.map((r) => {
      const v = nums(r)
      if (v[4] !== Math.round(v[4]!)) throw new Error(`non-integer rect weight ${v[4]}`)
      return v
    })
  })
  const nWeak = stages.reduce((a, s) => a + s.weak.length, 0)
  const nNodes = stages.reduce((a, s) => a + s.weak.reduce((b, w) => b + w.nodes.length, 0), 0)
  const nLeaves = stages.reduce((a, s) => a + s.weak.reduce((b, w) => b + w.leaves.length, 0), 0)
  const size =
    4 +
    2 +
    2 +
    2 +
    12 +
    stages.length * 6 +
    nWeak * 2 +
    nNodes * 8 +
    nLeaves * 4 +
    features.reduce((a, f) => a + 1 + f.length * 5, 0)
  const buf = new Uint8Array(size)
  const dv = new DataView(buf.buffer)
  let o = 0
  for (const c of 'HSC1') buf[o++] = c.charCodeAt(0)
  dv.setUint8(o++, winW)
  dv.setUint8(o++, winH)
  dv.setUint16(o, stages.length, true)
  o += 2
  dv.setUint16(o, features.length, true)
  o += 2
  dv.setUint32(o, nWeak, true)
  o += 4
  dv.setUint32(o, nNodes, true)
  o += 4
  dv.setUint32(o, nLeaves, true)
  o += 4
  for (const s of stages) {
    dv.setUint16(o, s.weak.length, true)
    o += 2
    dv.setFloat32(o, s.thr, true)
    o += 4
  }
  for (const s of stages)
    for (const w of s.weak) {
      dv.setUint8(o++, w.nodes.length)
      dv.setUint8(o++, w.leaves.length)
    }
  for (const s of stages)
    for (const w of s.weak)
      for (const [l, r, f, t] of w.nodes) {
        dv.setInt8(o++, l!)
        dv.setInt8(o++, r!)
        dv.setUint16(o, f!, true)
        o += 2
        dv.setFloat32(o, t!, true)
        o += 4
      }
  for (const s of stages)
    for (const w of s.weak)
      for (const v of w.leaves) {
        dv.setFloat32(o, v, true)
        o += 4
      }
  for (const f of features) {
    dv.setUint8(o++, f.length)
    for (const [x, y, w, h, wt] of f) {
      dv.setUint8(o++, x!)
      dv.setUint8(o++, y!)
      dv.setUint8(o++, w!)
      dv.setUint8(o++, h!)
      dv.setInt8(o++, wt!)
    }
  }
  if (o !== size) throw new Error(`size mismatch ${o} != ${size}`)
  return buf
}

if (import.meta.main) {
  const dir = process.argv[2] ?? '/usr/share/opencv4/haarcascades'
  const out: string[] = [
    '// GENERATED by scripts/build-face-cascades.ts from OpenCV cascades (Debian opencv-data).',
    '// Licence: Intel License Agreement for Open Source Computer Vision Library (BSD-style), see CASCADES-LICENSE.txt.',
    '// Do not edit by hand.',
    '',
  ]
  for (const [name, file] of Object.entries(SOURCES)) {
    const bin = convert(readFileSync(join(dir, file), 'utf8'))
    out.push(`/** ${file}: ${bin.length} bytes */`)
    out.push(`export const ${name.toUpperCase()} = '${Buffer.from(bin).toString('base64')}'`)
    out.push('')
    console.log(`${file}: ${bin.length} bytes`)
  }
  writeFileSync(new URL('../src/image/faces/cascades.gen.ts', import.meta.url), out.join('\n'))
}
