/**
 * A minimal Graph API picture edge that serves pictures of ANY size (the fake in
 * test/fakes/facebook.ts only makes square ones). Same wire behaviour the facebook plugin relies
 * on: `GET /v{N}.{M}/{id}/picture?redirect=false&access_token={appId}|{appSecret}` answers
 * `{data:{url,is_silhouette,width,height}}`, the URL points back at this origin, an unknown id is
 * Graph error 100/33. Used by the transformation table, which needs a 300×200 source.
 */
import { Image } from 'imagescript'
import { json, serveFake, type FakeServer } from '../fakes/server.ts'

export interface RectFacebook extends FakeServer {
  /** Env for the facebook plugin (graph URL and app credentials). */
  readonly env: Record<string, string>
  /** Serves `bytes` as `id`'s picture. */
  addPicture(id: string, bytes: Uint8Array, contentType?: string): void
}

export function startRectFacebook(): RectFacebook {
  const appId = '2222333344445555'
  const appSecret = 'rect-facebook-app-secret'
  const pictures = new Map<string, { bytes: Uint8Array; contentType: string }>()
  const server = serveFake((request, url) => {
    const edge = /^\/(?:v[0-9]+\.[0-9]+\/)?([^/]+)\/picture\/?$/.exec(url.pathname)
    if (request.method === 'GET' && edge) {
      if (url.searchParams.get('access_token') !== `${appId}|${appSecret}`) {
        return { route: 'picture', response: json({ error: { message: 'Invalid OAuth access token', type: 'OAuthException', code: 190 } }, 400) }
      }
      const id = decodeURIComponent(edge[1]!)
      if (!pictures.has(id)) {
        return { route: 'picture', response: json({ error: { message: `Object with ID '${id}' does not exist`, type: 'GraphMethodException', code: 100, error_subcode: 33 } }, 400) }
      }
      return { route: 'picture', response: json({ data: { url: `${url.origin}/cdn/${encodeURIComponent(id)}`, is_silhouette: false, width: 0, height: 0 } }) }
    }
    const cdn = /^\/cdn\/([^/]+)$/.exec(url.pathname)
    const picture = cdn ? pictures.get(decodeURIComponent(cdn[1]!)) : undefined
    if (request.method === 'GET' && picture) {
      return { route: 'cdn', response: new Response(picture.bytes, { headers: { 'content-type': picture.contentType } }) }
    }
    return { route: 'unknown', response: new Response('Not Found', { status: 404 }) }
  })
  return {
    ...server,
    env: { HEADSHOT_FACEBOOK_GRAPH_URL: server.url, HEADSHOT_FACEBOOK_APP_ID: appId, HEADSHOT_FACEBOOK_APP_SECRET: appSecret },
    addPicture(id, bytes, contentType = 'image/jpeg') {
      pictures.set(id, { bytes, contentType })
    },
  }
}

export type Rgb = readonly [number, number, number]

export const QUADRANT_COLOURS = {
  topLeft: [255, 0, 0] as Rgb, // red
  topRight: [0, 255, 0] as Rgb, // green
  bottomLeft: [0, 0, 255] as Rgb, // blue
  bottomRight: [255, 255, 0] as Rgb, // yellow
}

/** A width×height JPEG in four solid quadrants (see QUADRANT_COLOURS): where a pixel came from is obvious. */
export async function quadrantJpeg(width: number, height: number, quality: Parameters<Image['encodeJPEG']>[0] = 95): Promise<Uint8Array> {
  const image = new Image(width, height)
  const { topLeft, topRight, bottomLeft, bottomRight } = QUADRANT_COLOURS
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = y < height / 2 ? (x < width / 2 ? topLeft : topRight) : x < width / 2 ? bottomLeft : bottomRight
      image.setPixelAt(x + 1, y + 1, Image.rgbaToColor(r, g, b, 255))
    }
  }
  return new Uint8Array(await image.encodeJPEG(quality))
}
