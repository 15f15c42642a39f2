/**
 * Where the face photographs with ground truth are: a folder holding `faces/` and `faces-hard/`,
 * each with its `faces.json`. Their licence keeps them out of this repository, so tests and
 * benchmarks that need them skip cleanly when the folder is missing.
 *
 * HEADSHOT_FACES_DATA names the folder (relative paths are taken from the repository root); by
 * default it is `shared/data` beside the checkout, where CI provides it.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { decode } from '../../src/image/codecs.ts'
import type { Bitmap, Rect } from '../../src/image/types.ts'

export const FACE_SETS = ['faces', 'faces-hard'] as const
export type FaceSet = (typeof FACE_SETS)[number]

const REPO_ROOT = resolve(import.meta.dir, '../..')

export function facesDataDir(): string {
  return resolve(REPO_ROOT, process.env.HEADSHOT_FACES_DATA ?? '../shared/data')
}

/** True when every named set (default: all of them) has its ground truth in `facesDataDir()`. */
export function haveFaceData(...sets: FaceSet[]): boolean {
  const wanted = sets.length > 0 ? sets : FACE_SETS
  return wanted.every((set) => existsSync(join(facesDataDir(), set, 'faces.json')))
}

/** One image of a set and its faces (hairline-to-chin boxes in its pixels). */
export interface GroundTruthImage {
  file: string
  width: number
  height: number
  faces: Rect[]
  category?: string
}

export function readGroundTruth(set: FaceSet): GroundTruthImage[] {
  return JSON.parse(readFileSync(join(facesDataDir(), set, 'faces.json'), 'utf8')) as GroundTruthImage[]
}

export function readImageBytes(set: FaceSet, file: string): Uint8Array {
  return new Uint8Array(readFileSync(join(facesDataDir(), set, file)))
}

/** A set image, decoded, with its ground truth. */
export async function loadFaceImage(set: FaceSet, file: string): Promise<{ bitmap: Bitmap; truth: GroundTruthImage }> {
  const truth = readGroundTruth(set).find((image) => image.file === file)
  if (!truth) throw new Error(`${set}/${file} is not in the set`)
  return { bitmap: await decode(readImageBytes(set, file), 'jpg'), truth }
}
