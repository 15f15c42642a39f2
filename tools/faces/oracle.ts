/**
 * Exact-output oracle for refactoring the face detector: records the boxes it returns for every
 * image of the face sets, or compares a new run against a recorded one (any difference, even in
 * the last bit of a coordinate, counts).
 *
 *   bun run tools/faces/oracle.ts --out /tmp/faces-before.json [--set faces|faces-hard|all] [--full]
 *   bun run tools/faces/oracle.ts --against /tmp/faces-before.json [--set …] [--full]
 *   … --full --options '{"exhaustive":true}'   (detector options, with --full)
 *
 * By default each image goes through `findFaces` (what production runs on an upload: shrink-on-
 * load decode, detection, boxes scaled back); `--full` instead runs `detectFaces` on the full-size
 * bitmap and keeps scores and tilts as well (what the benchmark scores). Keys are `<set>/<file>`.
 * Data: see test/support/face-data.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { decode } from '../../src/image/codecs.ts'
import { findFaces } from '../../src/image/faces/find.ts'
import { detectFaces, type DetectOptions } from '../../src/image/faces/index.ts'
import { FACE_SETS, facesDataDir, haveFaceData, type FaceSet } from '../../test/support/face-data.ts'

const args = process.argv.slice(2)
const option = (name: string): string | undefined => {
  const at = args.indexOf(`--${name}`)
  return at >= 0 ? args[at + 1] : undefined
}
const setArg = option('set') ?? 'all'
const sets: readonly FaceSet[] = setArg === 'all' ? FACE_SETS : [setArg as FaceSet]
const fullSize = args.includes('--full')
const detectOptions = JSON.parse(option('options') ?? '{}') as DetectOptions
if (!fullSize && Object.keys(detectOptions).length > 0) throw new Error('--options needs --full')
const outPath = option('out')
const againstPath = option('against')
if (!outPath && !againstPath) throw new Error('give --out FILE to record or --against FILE to compare')
if (!haveFaceData(...sets)) throw new Error(`face data not found in ${facesDataDir()} (set HEADSHOT_FACES_DATA)`)

const boxesByImage: Record<string, unknown> = {}
for (const set of sets) {
  const setDir = join(facesDataDir(), set)
  const groundTruth = JSON.parse(readFileSync(join(setDir, 'faces.json'), 'utf8')) as { file: string }[]
  for (const { file } of groundTruth) {
    const bytes = new Uint8Array(readFileSync(join(setDir, file)))
    boxesByImage[`${set}/${file}`] = fullSize ? detectFaces(await decode(bytes, 'jpg'), detectOptions) : await findFaces(bytes, 'jpg')
  }
}

if (outPath) {
  writeFileSync(outPath, JSON.stringify(boxesByImage, null, 1))
  console.log(`recorded ${Object.keys(boxesByImage).length} images to ${outPath}`)
}
if (againstPath) {
  const recorded = JSON.parse(readFileSync(againstPath, 'utf8')) as Record<string, unknown>
  let compared = 0
  let different = 0
  for (const set of sets) {
    const keys = Object.keys(boxesByImage).filter((key) => key.startsWith(`${set}/`))
    const changed = keys.filter((key) => JSON.stringify(boxesByImage[key]) !== JSON.stringify(recorded[key]))
    for (const key of changed) {
      console.log(`${key}\n  before ${JSON.stringify(recorded[key])}\n  now    ${JSON.stringify(boxesByImage[key])}`)
    }
    console.log(`${set}: ${keys.length} images compared, ${changed.length} different`)
    compared += keys.length
    different += changed.length
  }
  console.log(`total: ${compared} images compared, ${different} different`)
  if (different > 0) process.exit(1)
}
