/**
 * TypeBox schemas of the API: Elysia validates requests with them and `/openapi.json` documents
 * them, so the two cannot drift apart. Fields the SDKs may add beyond these are allowed (each
 * route decides what to do with them).
 */
import { t } from 'elysia'

/** One form field as urlencoded, multipart or JSON bodies carry it. */
const Field = (description: string) =>
  t.Optional(
    t.Union([t.String(), t.Number(), t.Boolean(), t.Array(t.Union([t.String(), t.Number()]))], { description }),
  )

export const ExplicitBody = t.Object(
  {
    public_id: t.Union([t.String({ minLength: 1 }), t.Number()], {
      description: 'The id on the network, as in delivery URLs',
    }),
    type: Field('Delivery type (network): facebook, twitter, twitter_name, gravatar, …'),
    timestamp: t.Union([t.String(), t.Number()], { description: 'Unix seconds; within one hour of the server clock' }),
    api_key: t.Union([t.String(), t.Number()], { description: 'The API key' }),
    signature: t.String({ description: 'sha1 (40 hex) or sha256 (64 hex) of the sorted parameters + API secret' }),
    invalidate: Field('`1`/`true`: drop derived images and ask the CDN to purge them'),
    eager: Field('`|`-separated transformations, each optionally ending in `/<format>`, derived now'),
    eager_async: Field('`1`: derive the eager list in the background'),
    async: Field('`1`: answer `pending` at once and do all the work in the background'),
    faces: Field('`1`: add the detected face boxes'),
  },
  { additionalProperties: true },
)

export const ListQuery = t.Object(
  {
    max_results: t.Optional(
      t.Numeric({
        minimum: 1,
        maximum: 500,
        description: 'Page size, 1–500 (default 10)',
        error: 'Invalid value for max_results: a number from 1 to 500',
      }),
    ),
    next_cursor: t.Optional(t.String({ maxLength: 4096, description: 'From the previous page' })),
    prefix: t.Optional(t.String({ maxLength: 512, description: 'Only public ids starting with this text' })),
    direction: t.Optional(
      t.Union([t.Literal('asc'), t.Literal('desc'), t.Literal('1'), t.Literal('-1')], {
        description: 'By creation time; default desc',
        error: 'Invalid value for direction: asc, desc, 1 or -1',
      }),
    ),
  },
  { additionalProperties: true },
)

export const DetailsQuery = t.Object(
  { faces: t.Optional(t.String({ description: '`true`: add face boxes `[x, y, w, h]` in original pixels' })) },
  { additionalProperties: true },
)

export const DeleteBody = t.Object(
  {
    'public_ids[]': Field('Up to 100 public ids'),
    public_ids: Field('Up to 100 public ids (JSON bodies)'),
    prefix: Field('Delete every picture whose id starts with this text (up to 1,000 per call)'),
    all: Field('`true`: delete every picture of the type (up to 1,000 per call)'),
    keep_original: Field('`true`: drop only the derived images'),
    invalidate: Field('Accepted for compatibility; deletions always purge'),
    next_cursor: Field('Continue a partial prefix/all deletion'),
  },
  { additionalProperties: true },
)

export const ErrorBody = t.Object({ error: t.Object({ message: t.String() }) }, { description: 'Every error' })

export const Resource = t.Object(
  {
    public_id: t.String(),
    format: t.Union([t.String(), t.Null()]),
    version: t.Integer({ description: 'Unix seconds of the last change of the original' }),
    resource_type: t.Literal('image'),
    type: t.String(),
    created_at: t.String({ format: 'date-time' }),
    bytes: t.Integer(),
    width: t.Union([t.Integer(), t.Null()]),
    height: t.Union([t.Integer(), t.Null()]),
    placeholder: t.Boolean({ description: 'true when the network has no picture' }),
    access_mode: t.String(),
    etag: t.Optional(t.String()),
    url: t.String(),
    secure_url: t.String(),
    signature: t.Optional(t.String({ description: 'explicit: sha1 of `public_id=…&version=…` + API secret' })),
    faces: t.Optional(t.Array(t.Array(t.Integer()))),
    derived: t.Optional(t.Array(t.Object({}, { additionalProperties: true }))),
    eager: t.Optional(t.Array(t.Object({}, { additionalProperties: true }))),
  },
  { additionalProperties: true },
)

export const Pending = t.Object({
  status: t.Literal('pending'),
  public_id: t.String(),
  type: t.String(),
  resource_type: t.Literal('image'),
})

export const ResourceList = t.Object({ resources: t.Array(Resource), next_cursor: t.Optional(t.String()) })

export const DeleteResult = t.Object({
  deleted: t.Record(t.String(), t.Union([t.Literal('deleted'), t.Literal('not_found')])),
  deleted_counts: t.Record(t.String(), t.Object({ original: t.Integer(), derived: t.Integer() })),
  partial: t.Boolean(),
  next_cursor: t.Optional(t.String()),
})
