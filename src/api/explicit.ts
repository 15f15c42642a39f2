/**
 * `POST /v1_1/<cloud>/image/explicit`: refresh a picture from its network now, whatever its age,
 * optionally invalidating what caches hold and deriving `eager` transformations ahead of requests.
 *
 * Parameters are checked against three lists, so an SDK option is never silently dropped when it
 * would change the outcome: what we use, what is metadata with no meaning for a social picture
 * (accepted and ignored), and what we refuse with a reason.
 */
import { HttpError } from '../lib/http-error.ts'
import type { ManageService } from '../manage/types.ts'
import { responseSignature } from '../url/api-signature.ts'
import { flag, list, text, type ParamValue } from './http.ts'
import { derivedJson, faceTuples, resourceJson, type UrlBase, urlsOf } from './resource-json.ts'

const USED = new Set([
  'public_id',
  'type',
  'timestamp',
  'signature',
  'api_key',
  'resource_type',
  'cloud_name',
  'invalidate',
  'eager',
  'eager_async',
  'async',
  'faces',
])

/** Asset metadata and analysis options: they describe an upload, not a picture we mirror. */
const IGNORED = new Set([
  'tags',
  'context',
  'metadata',
  'moderation',
  'auto_tagging',
  'categorization',
  'detection',
  'ocr',
  'background_removal',
  'raw_convert',
  'colors',
  'image_metadata',
  'media_metadata',
  'phash',
  'quality_analysis',
  'accessibility_analysis',
  'cinemagraph_analysis',
  'visual_search',
  'return_delete_token',
  'display_name',
  'asset_folder',
  'unique_display_name',
  'callback',
  'overwrite',
  'quality_override',
  'use_filename',
  'unique_filename',
  'use_filename_as_display_name',
  'use_asset_folder_as_public_id_prefix',
  'clear_invalid',
  'proxy',
  'responsive_breakpoints',
  'access_control',
  'access_mode',
])

const REFUSED: Record<string, string> = {
  notification_url: 'headshot does not call back; call explicit without async and read the answer',
  eager_notification_url: 'headshot does not call back; read the eager list of a synchronous call',
  transformation: 'originals are kept as the network serves them; use eager for derived versions',
  face_coordinates: 'faces are detected by headshot',
  custom_coordinates: 'faces are detected by headshot',
  headers: 'response headers are fixed by headshot',
  upload_preset: 'there are no upload presets for social types',
  file: 'social pictures come from their network, not from uploads',
}

export interface ExplicitDeps {
  manage: ManageService
  apiSecret: string
  /** Where background (`async`, `eager_async`) failures go. */
  log: (message: string) => void
}

/** The name of a received field as it may appear in a message (no injection into JSON readers' logs). */
const shownName = (name: string) => name.replace(/[^A-Za-z0-9_[\]]/g, '?').slice(0, 64)

function checkParameters(params: Record<string, ParamValue>): void {
  for (const name of Object.keys(params)) {
    if (USED.has(name) || IGNORED.has(name)) continue
    const reason = REFUSED[name]
    if (reason) throw new HttpError(400, `Unsupported parameter ${name}: ${reason}`)
    throw new HttpError(400, `Unsupported parameter ${shownName(name)} for social delivery types`)
  }
}

export async function explicit(
  params: Record<string, ParamValue>,
  base: UrlBase,
  deps: ExplicitDeps,
): Promise<Record<string, unknown>> {
  checkParameters(params)
  const resourceType = text(params.resource_type) ?? 'image'
  if (resourceType !== 'image') throw new HttpError(400, `Invalid resource type ${shownName(resourceType)}: only image`)
  const publicId = text(params.public_id)
  if (publicId === undefined) throw new HttpError(400, 'Missing required parameter - public_id')
  const type = text(params.type)
  if (type === undefined) {
    throw new HttpError(400, `Missing required parameter - type (one of ${deps.manage.types().join(', ')})`)
  }
  if (!deps.manage.types().includes(type)) throw new HttpError(400, `Invalid delivery type ${shownName(type)}`)
  const eager = list(params.eager)
    .flatMap((entry) => entry.split('|'))
    .map((e) => e.trim())
    .filter(Boolean)
  const invalidate = flag(params.invalidate)

  const work = async () => {
    const { picture } = await deps.manage.refresh(type, publicId, { invalidate })
    return picture
  }

  if (flag(params.async)) {
    void (async () => {
      const picture = await work()
      if (eager.length > 0) await deps.manage.eager(picture, eager)
    })().catch((error) => deps.log(`explicit async ${type}/${publicId}: ${(error as Error)?.message ?? error}`))
    return { status: 'pending', public_id: publicId, type, resource_type: 'image' }
  }

  let picture = await work()
  const body: Record<string, unknown> = {
    ...resourceJson(picture, base),
    tags: [],
    signature: responseSignature(picture.publicId, picture.version, deps.apiSecret),
  }
  if (eager.length > 0) {
    if (flag(params.eager_async)) {
      void deps.manage
        .eager(picture, eager)
        .catch((error) => deps.log(`explicit eager_async ${type}/${publicId}: ${(error as Error)?.message ?? error}`))
      body.eager = eager.map((transformation) => ({ transformation, status: 'processing' }))
    } else {
      const made = await deps.manage.eager(picture, eager)
      body.eager = made.map(({ transformation, derivative, path }) => {
        const json = derivedJson(derivative, picture, base)
        // The URL as the SDK builds it for this eager entry (its own text and extension).
        return { ...json, transformation, ...urlsOf(base, `/${base.cloudName}${path}`) }
      })
    }
  }
  if (flag(params.faces)) {
    picture = await deps.manage.withFaces(picture)
    body.faces = faceTuples(picture.faces ?? [])
  }
  return body
}
