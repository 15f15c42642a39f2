/** The last word on candidates: one per face, and no body parts taken for faces. */
import { nms } from './group.ts'
import type { Tuning } from './tuning.ts'
import { squareBox, type Candidate } from './verify.ts'

/** Squares overlapping more than this (IoU) hold one face. */
const SAME_FACE_IOU = 0.3

/**
 * Overlap suppression: of overlapping candidates the best-scored is the face (IoU above 0.3, or
 * more than `sameFaceOverlap` of the smaller square covered).
 */
export function suppressOverlaps(candidates: readonly Candidate[], tuning: Tuning): Candidate[] {
  const boxes = candidates.map((candidate) => ({ ...squareBox(candidate), score: candidate.score, candidate }))
  return nms(boxes, SAME_FACE_IOU, tuning.sameFaceOverlap).map((box) => box.candidate)
}

/** Drops the uncertain candidates that sit where a confident face's neck and chest are. */
export function dropBodiesUnderFaces(candidates: readonly Candidate[], tuning: Tuning): Candidate[] {
  return candidates.filter(
    (candidate) =>
      candidate.score >= tuning.certainFrom ||
      !candidates.some((face) => face !== candidate && isBodyUnderFace(candidate, face, tuning)),
  )
}

/**
 * Whether `candidate` is a confident face's own neck and chest: much smaller, centred below it
 * (in the face's frame, so tilted faces work too). Another person's face there would be hidden
 * by this person's body.
 */
export function isBodyUnderFace(candidate: Candidate, face: Candidate, tuning: Tuning): boolean {
  if (face.score < tuning.confidentScore || candidate.side > 0.6 * face.side) return false
  const radians = (face.angle * Math.PI) / 180
  const dx = candidate.cx - face.cx
  const dy = candidate.cy - face.cy
  // Offset in the face's frame: along its "down" (sin a, cos a) and across it.
  const down = dx * Math.sin(radians) + dy * Math.cos(radians)
  const across = dx * Math.cos(radians) - dy * Math.sin(radians)
  return Math.abs(across) < 0.5 * face.side && down > 0.5 * face.side && down < 2 * face.side
}
