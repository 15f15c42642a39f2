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
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { decode } from '../../src/image/codecs.ts'
import { findFaces } from '../../src/image/faces/find.ts'
import { detectFaces, type DetectOptions } from '../../src/image/faces/index.ts'
import { pickSets, readGroundTruth, readImageBytes, requireFaceData } from './images.ts'

const { values: flags } = parseArgs({
  options: {
    set: { type: 'string', default: 'all' },
    full: { type: 'boolean', default: false },
    options: { type: 'string' },
    out: { type: 'string' },
    against: { type: 'string' },
  },
})
const sets = pickSets(flags.set)
const detectOptions = JSON.parse(flags.options ?? '{}') as DetectOptions
if (!flags.full && flags.options) throw new Error('--options needs --full')
if (!flags.out && !flags.against) throw new Error('give --out FILE to record or --against FILE to compare')
requireFaceData(sets)

const boxesByImage: Record<string, unknown> = {}
for (const set of sets) {
  for (const { file } of readGroundTruth(set)) {
    const bytes = readImageBytes(set, file)
    const boxes = flags.full ? detectFaces(await decode(bytes, 'jpg'), detectOptions) : await findFaces(bytes, 'jpg')
    boxesByImage[`${set}/${file}`] = boxes
  }
}

if (flags.out) {
  writeFileSync(flags.out, JSON.stringify(boxesByImage, null, 1))
  console.log(`recorded ${Object.keys(boxesByImage).length} images to ${flags.out}`)
}
if (flags.against) {
  const recorded = JSON.parse(readFileSync(flags.against, 'utf8')) as Record<string, unknown>
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
