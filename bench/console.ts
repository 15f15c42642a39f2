/**
 * First load of the Media Library in headless Chromium against loopback: milliseconds from
 * navigation start until every thumbnail of the first page has arrived, and the bytes transferred
 * (page, stylesheet, script and JSON; then the thumbnails). Each run is a fresh browser profile,
 * so nothing comes from the browser's cache; the session cookie is put in beforehand.
 *   cold – the first visit: every grid thumbnail (a face crop) is derived on request
 *   warm – later visits: the thumbnails are stored derivatives
 *   baseline – a static page of the same thumbnails and nothing else, in the same run
 * Pictures: 20 face photographs from the shared set (synthetic pictures without it) and 4 Gravatars.
 * Run: bun run bench/console.ts [warm runs, default 7]
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { startFakeFacebook } from '../plugins/facebook/fake.ts'
import { startFakeGravatar } from '../plugins/gravatar/fake.ts'
import { haveChromium, launchChromium, CHROMIUM_PATH } from '../test/support/chromium.ts'
import { startHeadshot, TEST_SECRET } from '../test/support/headshot.ts'
import { facesDataDir } from '../test/support/face-data.ts'

const WARM_RUNS = Number(process.argv[2] ?? 7)
const FACES = join(facesDataDir(), 'faces')

if (!haveChromium()) {
  console.log(`skipped: ${CHROMIUM_PATH} not found`)
  process.exit(0)
}

interface Load {
  gridMs: number
  htmlBytes: number
  otherBytes: number
  thumbnailBytes: number
  thumbnails: number
}

// The callbacks given to page.evaluate run in Chromium; the project compiles without the DOM library.
declare const document: { querySelectorAll(selector: string): Iterable<unknown> }
interface PageEntry {
  name: string
  initiatorType: string
  responseEnd: number
  transferSize: number
}
interface PageTimeline {
  getEntriesByType(type: 'navigation' | 'resource'): PageEntry[]
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const facebook = startFakeFacebook()
const gravatar = startFakeGravatar()
const photos = existsSync(FACES)
  ? readdirSync(FACES)
      .filter((f) => f.endsWith('_v1.jpg'))
      .slice(0, 20)
  : []
const facebookIds = Array.from({ length: 20 }, (_, i) => String(10_000 + i))
facebookIds.forEach((id, i) => {
  const photo = photos[i]
  if (photo) facebook.addPhoto(id, new Uint8Array(readFileSync(join(FACES, photo))))
  else facebook.addUser(id, { seed: `bench-${i}`, side: 720 })
})
const hashes = Array.from({ length: 4 }, (_, i) => gravatar.addEmail(`bench${i}@example.com`).md5)
const headshot = await startHeadshot({ ...facebook.env, ...gravatar.env }, { inlineDerive: false })
for (const id of facebookIds) await headshot.get(headshot.sign(`/image/facebook/c_fill,h_60,w_60/${id}.jpg`))
for (const hash of hashes) await headshot.get(`/image/gravatar/c_fill,h_60,w_60/${hash}.jpg`)
headshot.app.app.listen({ port: 0, hostname: '127.0.0.1' })
const base = `http://127.0.0.1:${headshot.app.app.server!.port}`

const signIn = await fetch(`${base}/console/sign-in`, {
  method: 'POST',
  redirect: 'manual',
  body: new URLSearchParams({ api_key: headshot.config.apiKey, api_secret: TEST_SECRET }),
})
const sessionId = /headshot_console=([^;]+)/.exec(signIn.headers.get('set-cookie') ?? '')?.[1]
if (!sessionId) throw new Error(`sign-in failed: ${signIn.status}`)

// Baseline: a static page holding nothing but the same thumbnails as plain <img> tags (no script, no
// JSON, no stylesheet), served from another loopback port: what loading the pictures alone costs.
const thumbnailPaths = await (async () => {
  const cookie = `headshot_console=${sessionId}`
  const answer = await fetch(`${base}/console/api/pictures?limit=48`, { headers: { cookie } })
  const { pictures } = (await answer.json()) as { pictures: Array<{ thumbnail: string }> }
  return pictures.map((picture) => picture.thumbnail)
})()
const baselineHtml =
  '<!doctype html><title>baseline</title><ul id="grid">' +
  thumbnailPaths.map((path) => `<li><img src="${base}${path}" width="180" height="180" alt=""></li>`).join('') +
  '</ul>'
const baselineServer = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch: () => new Response(baselineHtml, { headers: { 'Content-Type': 'text/html; charset=utf-8' } }),
})

async function firstLoad(url: string): Promise<Load> {
  const chromium = await launchChromium()
  try {
    await chromium.context.addCookies([{ name: 'headshot_console', value: sessionId!, url: `${base}/console` }])
    const page = await chromium.context.newPage()
    await page.goto(url)
    await page.waitForFunction((count) => {
      const images = [...document.querySelectorAll('#grid img')] as Array<{ complete: boolean; naturalWidth: number }>
      return images.length === count && images.every((image) => image.complete && image.naturalWidth > 0)
    }, facebookIds.length + hashes.length)
    return await page.evaluate(() => {
      // The page's own performance timeline (times from navigation start), not Bun's.
      const timeline = (globalThis as unknown as { performance: PageTimeline }).performance
      const navigation = timeline.getEntriesByType('navigation')[0]!
      const resources = timeline.getEntriesByType('resource')
      const thumbnails = resources.filter((r) => r.initiatorType === 'img' && r.name.includes('/c_thumb,'))
      const sum = (entries: PageEntry[]) => entries.reduce((total, entry) => total + entry.transferSize, 0)
      return {
        gridMs: Math.max(...thumbnails.map((r) => r.responseEnd)),
        htmlBytes: navigation.transferSize,
        otherBytes: sum(resources.filter((r) => !thumbnails.includes(r))),
        thumbnailBytes: sum(thumbnails),
        thumbnails: thumbnails.length,
      }
    })
  } finally {
    await chromium.close()
  }
}

/** `bytes: false` for the baseline: its thumbnails are cross-origin, whose sizes the browser hides. */
function report(label: string, loads: Load[], bytes = true): void {
  const pick = (key: keyof Load) => median(loads.map((load) => load[key]))
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`
  const withoutThumbnails = pick('htmlBytes') + pick('otherBytes')
  const all = withoutThumbnails + pick('thumbnailBytes')
  console.log(
    `| ${label} | ${loads.length} | ${pick('gridMs').toFixed(0)} ms | ${pick('thumbnails')} | ` +
      (bytes ? `${kb(withoutThumbnails)} | ${kb(all)} |` : '— | — |'),
  )
}

console.log('| first load | runs | grid filled (median) | thumbnails | bytes without thumbnails | bytes in all |')
console.log('|---|---|---|---|---|---|')
report('cold (thumbnails derived on request)', [await firstLoad(`${base}/console`)])
const warm: Load[] = []
const baseline: Load[] = []
for (let run = 0; run < WARM_RUNS; run++) {
  warm.push(await firstLoad(`${base}/console`))
  baseline.push(await firstLoad(`http://127.0.0.1:${baselineServer.port}/`))
}
report('warm (thumbnails stored)', warm)
report('baseline: a static page of the same thumbnails', baseline, false)

baselineServer.stop(true)

await headshot.app.app.stop()
await headshot.close()
facebook.stop()
gravatar.stop()
