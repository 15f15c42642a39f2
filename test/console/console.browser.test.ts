/**
 * The Media Library end to end in a real headless Chromium: a whole headshot on a loopback port
 * with fake Facebook (restricted: signed URLs) and Gravatar (unrestricted) upstreams, pictures
 * ingested by delivery requests, then everything a self-hoster does on the page.
 *
 * Needs /usr/bin/chromium (Debian's package; CI installs it). Without it the test is skipped with
 * a message, except under CI, where a missing browser is a failure.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { probeImage } from '../../src/lib/image-header.ts'
import { startFakeFacebook, type FakeFacebook } from '../../plugins/facebook/fake.ts'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { CHROMIUM_PATH, haveChromium, launchChromium, type Chromium } from '../support/chromium.ts'
import { startHeadshot, TEST_SECRET, type Headshot } from '../support/headshot.ts'
import { facesDataDir } from '../support/face-data.ts'

// The callbacks given to page.evaluate / waitForFunction run inside Chromium, where the DOM exists.
// The project compiles without the DOM library (it would clash with Bun's types), so they see the
// little of it they use through these module-local declarations.
interface HTMLImageElement {
  complete: boolean
  naturalWidth: number
  naturalHeight: number
  src: string
}
interface PageElement {
  textContent: string | null
  getAttribute(name: string): string | null
  closest(selector: string): PageElement | null
}
declare const document: {
  querySelector<T = PageElement>(selector: string): T | null
  querySelectorAll<T = PageElement>(selector: string): Iterable<T> & { length: number }
  activeElement: PageElement | null
}
declare const navigator: { clipboard: { readText(): Promise<string> } }

const API_KEY = '123456' // startHeadshot's key
const browserAvailable = haveChromium()
const MISSING = `${CHROMIUM_PATH} not found: install Debian's chromium (apt-get install chromium) to run it`

if (!browserAvailable) {
  if (process.env.CI) {
    test('Chromium is installed (required under CI)', () => {
      throw new Error(MISSING)
    })
  } else {
    console.warn(`skipping console browser test: ${MISSING}`)
  }
}

// Real photographs (the face data set, as in the face tests: test/support/face-data.ts) give real
// face boxes; without them the pictures are synthetic and the face-box check is skipped.
const FACES = join(facesDataDir(), 'faces')
const PORTRAIT = join(FACES, 'london_001_v1.jpg')
const OTHER_PORTRAIT = join(FACES, 'canada_053f_v1.jpg')
const havePhotos = existsSync(PORTRAIT) && existsSync(OTHER_PORTRAIT)
/** Per step: a cold Chromium start and first derivations take seconds on a busy machine. */
const STEP_MS = 30_000

let facebook: FakeFacebook
let gravatar: FakeGravatar
let headshot: Headshot
let chromium: Chromium
let page: Page
let base: string
const gravatarHashes: string[] = []

function probe(bytes: Uint8Array) {
  const result = probeImage(bytes)
  if (!result.ok) throw new Error(result.error)
  return result.value
}

/** Every thumbnail in the grid has arrived and decoded. */
async function thumbnailsLoaded(): Promise<void> {
  await page.waitForFunction(() => {
    const images = [...document.querySelectorAll<HTMLImageElement>('#grid img')]
    return (
      document.querySelector('#grid')?.getAttribute('aria-busy') === 'false' &&
      images.every((image) => image.complete && image.naturalWidth > 0)
    )
  })
}

const tiles = () => page.locator('#grid > li')
const tileOf = (type: string, id: string) => page.locator(`#grid > li[data-type="${type}"][data-id="${id}"] button`)
const fact = (name: string) => page.locator(`#facts dd[data-fact="${name}"]`)

/** The image has arrived and decoded (its current src). */
async function imageLoaded(selector: string): Promise<void> {
  await page.waitForFunction((query) => {
    const image = document.querySelector<HTMLImageElement>(query)
    return image?.complete && image.naturalWidth > 0
  }, selector)
}

async function openDetails(type: string, id: string): Promise<void> {
  await tileOf(type, id).click()
  await page.locator('#details').waitFor({ state: 'visible' })
  await imageLoaded('#details-image')
}

const SUITE = browserAvailable ? 'the Media Library in Chromium' : `the Media Library in Chromium (skipped: ${MISSING})`

describe.skipIf(!browserAvailable)(SUITE, () => {
  beforeAll(async () => {
    facebook = startFakeFacebook()
    gravatar = startFakeGravatar()
    if (havePhotos) facebook.addPhoto('100', new Uint8Array(readFileSync(PORTRAIT)))
    else facebook.addUser('100', { seed: 'portrait', side: 400 })
    facebook.addUser('4', { seed: 'zuck', side: 300 })
    facebook.addUser('65646572251', { seed: 'bill', side: 320 })
    for (const email of ['ada@example.com', 'grace@example.com', 'linus@example.com']) {
      gravatarHashes.push(gravatar.addEmail(email).md5)
    }
    headshot = await startHeadshot({ ...facebook.env, ...gravatar.env })

    // Pictures enter the store the way they do in production: through delivery requests.
    for (const id of ['100', '4', '65646572251']) {
      expect((await headshot.get(headshot.sign(`/image/facebook/c_fill,h_60,w_60/${id}.jpg`))).status).toBe(200)
    }
    for (const hash of gravatarHashes) {
      expect((await headshot.get(`/image/gravatar/c_fill,h_60,w_60/${hash}.jpg`)).status).toBe(200)
    }

    headshot.app.app.listen({ port: 0, hostname: '127.0.0.1' })
    base = `http://127.0.0.1:${headshot.app.app.server!.port}`
    chromium = await launchChromium()
    await chromium.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base })
    page = await chromium.context.newPage()
  }, 60_000)

  afterAll(async () => {
    await chromium?.close()
    await headshot?.app.app.stop()
    await headshot?.close()
    facebook?.stop()
    gravatar?.stop()
  })

  test(
    'a wrong secret is refused: 401 and the page says so',
    async () => {
      await page.goto(`${base}/console`)
      await page.getByLabel('API key').fill(API_KEY)
      await page.getByLabel('API secret').fill('not-the-secret')
      const answer = page.waitForResponse((response) => response.url().endsWith('/console/sign-in'))
      await page.getByRole('button', { name: 'Sign in' }).click()
      expect((await answer).status()).toBe(401)
      expect(await page.getByRole('alert').textContent()).toBe('Wrong API key or secret.')
      expect(await chromium.context.cookies(`${base}/console`)).toEqual([])
    },
    STEP_MS,
  )

  test(
    'signing in shows every picture, with thumbnails, and counts per network',
    async () => {
      await page.getByLabel('API key').fill(API_KEY)
      await page.getByLabel('API secret').fill(TEST_SECRET)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.waitForURL(`${base}/console`)
      await tiles().nth(5).waitFor()
      await thumbnailsLoaded()
      expect(await tiles().count()).toBe(6)

      const [cookie] = await chromium.context.cookies(`${base}/console`)
      expect(cookie).toMatchObject({ name: 'headshot_console', path: '/console', httpOnly: true, sameSite: 'Strict' })

      // The page only ever holds paths the server built: facebook thumbnails signed, gravatar ones not.
      const sources = await page.locator('#grid img').evaluateAll((images) => images.map((i) => i.getAttribute('src')!))
      for (const src of sources) {
        const signed = /^\/image\/facebook\/s--[\w-]{8}--\/c_thumb,g_face/
        expect(src).toMatch(src.includes('/facebook/') ? signed : /^\/image\/gravatar\/c_thumb,g_face/)
      }
      expect(await page.content()).not.toContain(TEST_SECRET)

      const all = page.getByRole('button', { name: 'All networks: 6 pictures' })
      expect(await all.getAttribute('aria-pressed')).toBe('true')
      expect(await page.getByRole('button', { name: 'facebook: 3 pictures, signed URLs' }).isVisible()).toBe(true)
      expect(await page.getByRole('button', { name: 'gravatar: 3 pictures' }).isVisible()).toBe(true)
    },
    STEP_MS,
  )

  test(
    'filtering by network and searching by id prefix narrow the grid',
    async () => {
      await page.getByRole('button', { name: 'facebook: 3 pictures, signed URLs' }).click()
      await page.waitForFunction(() =>
        [...document.querySelectorAll('#grid > li')].every((li) => li.getAttribute('data-type') === 'facebook'),
      )
      expect(await tiles().count()).toBe(3)
      expect(await page.getByRole('heading', { level: 2, name: 'facebook pictures' }).isVisible()).toBe(true)

      await page.getByLabel('Search by id prefix').fill('6564')
      await page.waitForFunction(() => document.querySelectorAll('#grid > li').length === 1)
      expect(await tiles().first().getAttribute('data-id')).toBe('65646572251')

      await page.getByLabel('Search by id prefix').fill('')
      await page.getByRole('button', { name: 'All networks: 6 pictures' }).click()
      await page.waitForFunction(() => document.querySelectorAll('#grid > li').length === 6)
      await thumbnailsLoaded()
    },
    STEP_MS,
  )

  test(
    'a picture opens by keyboard with its details and face boxes over the original; Esc closes it',
    async () => {
      await tileOf('facebook', '100').focus()
      await page.keyboard.press('Enter')
      await page.locator('#details').waitFor({ state: 'visible' })
      await imageLoaded('#details-image')

      expect(await page.locator('#details-title').textContent()).toBe('100')
      expect(await fact('version').textContent()).toMatch(/^v\d{10}$/)
      expect(await fact('size').textContent()).toMatch(/^\d+ × \d+ px$/)
      expect(await fact('bytes').textContent()).toMatch(/KB$/)
      expect(await fact('next check').textContent()).toMatch(/in 7 days|next week/)
      expect(await page.locator('#derivatives tbody tr').count()).toBeGreaterThanOrEqual(2) // c_fill + the thumbnail

      if (havePhotos) {
        const boxes = page.locator('#face-boxes .face-box')
        expect(await boxes.count()).toBe(1)
        const image = (await page.locator('#details-image').boundingBox())!
        const face = (await boxes.first().boundingBox())!
        // The box sits on the picture, around a face-sized region of it.
        expect(face.x).toBeGreaterThanOrEqual(image.x - 1)
        expect(face.y).toBeGreaterThanOrEqual(image.y - 1)
        expect(face.x + face.width).toBeLessThanOrEqual(image.x + image.width + 1)
        expect(face.y + face.height).toBeLessThanOrEqual(image.y + image.height + 1)
        expect(face.width * face.height).toBeGreaterThan(0.05 * image.width * image.height)
        expect(await page.locator('#face-summary').textContent()).toBe('1 face detected')
      } else {
        console.warn('console browser test: face photos not found, face boxes not checked')
      }

      await page.keyboard.press('Escape')
      await page.locator('#details').waitFor({ state: 'hidden' })
      expect(await page.evaluate(() => document.activeElement?.closest('li')?.getAttribute('data-id'))).toBe('100')
    },
    STEP_MS,
  )

  test(
    'after the picture changes upstream, Refresh now shows the new version',
    async () => {
      await openDetails('facebook', '100')
      const before = (await fact('version').textContent())!
      const previewBefore = await page.locator('#details-image').getAttribute('src')

      if (havePhotos) facebook.addPhoto('100', new Uint8Array(readFileSync(OTHER_PORTRAIT)))
      else facebook.addUser('100', { seed: 'portrait-2', side: 400 })
      await page.getByRole('button', { name: 'Refresh now' }).click()
      await page.waitForFunction(() => document.querySelector('#action-status')?.textContent?.startsWith('New version'))

      const after = (await fact('version').textContent())!
      expect(Number(after.slice(1))).toBeGreaterThan(Number(before.slice(1)))
      expect(await page.locator('#action-status').textContent()).toContain(`New version ${after} fetched`)
      const previewAfter = (await page.locator('#details-image').getAttribute('src'))!
      expect(previewAfter).not.toBe(previewBefore)
      expect(previewAfter).toContain(`/${after}/100`)
      await imageLoaded('#details-image')
      if (havePhotos) {
        const image = page.locator('#details-image')
        expect(await image.evaluate((i: HTMLImageElement) => [i.naturalWidth, i.naturalHeight])).toEqual([560, 560])
      }
      // The grid's tile shows the new version too.
      expect(await tileOf('facebook', '100').locator('img').getAttribute('src')).toContain(`/${after}/100.jpg`)
    },
    STEP_MS,
  )

  test(
    'the URL builder copies a signed delivery URL that really delivers the image',
    async () => {
      await page.getByLabel('Transformation').fill('w_abc')
      await page.getByRole('button', { name: 'Build URL' }).click()
      await page.locator('#builder-error').waitFor({ state: 'visible' })
      expect(await page.locator('#builder-error').textContent()).toBe('Invalid width in transformation: abc')

      await page.getByLabel('Transformation').fill('c_fill,g_face,h_90,w_90')
      await page.getByLabel('Format', { exact: true }).selectOption('png')
      await page.getByRole('button', { name: 'Build URL' }).click()
      await page.locator('#builder-result').waitFor({ state: 'visible' })
      const shown = await page.getByLabel('Delivery URL').inputValue()
      expect(shown).toMatch(
        new RegExp(`^${base}/image/facebook/s--[\\w-]{8}--/c_fill,g_face,h_90,w_90/v\\d+/100\\.png$`),
      )

      await page.getByRole('button', { name: 'Copy' }).click()
      await page.waitForFunction(
        () => document.querySelector('#copy-status')?.textContent === 'Copied to the clipboard.',
      )
      const copied = await page.evaluate(() => navigator.clipboard.readText())
      expect(copied).toBe(shown)

      const delivered = await fetch(copied)
      expect(delivered.status).toBe(200)
      expect(delivered.headers.get('content-type')).toBe('image/png')
      expect(probe(new Uint8Array(await delivered.arrayBuffer()))).toMatchObject({
        format: 'png',
        width: 90,
        height: 90,
      })
      // The preview on the page is that same URL, loaded.
      await imageLoaded('#builder-preview')
      expect(await page.locator('#builder-preview').evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(90)
      await page.keyboard.press('Escape')
      await page.locator('#details').waitFor({ state: 'hidden' })
    },
    STEP_MS,
  )

  test(
    'deleting a picture (after confirming) removes it from the grid and the counts',
    async () => {
      const victim = gravatarHashes[1]!
      await openDetails('gravatar', victim)
      await page.getByRole('button', { name: 'Delete' }).click()
      const confirm = page.getByRole('dialog', { name: 'Delete this picture?' })
      await confirm.waitFor({ state: 'visible' })
      // Cancelling keeps it.
      await confirm.getByRole('button', { name: 'Cancel' }).click()
      expect(await tileOf('gravatar', victim).count()).toBe(1)

      await page.getByRole('button', { name: 'Delete' }).click()
      await confirm.getByRole('button', { name: 'Delete' }).click()
      await page.locator('#details').waitFor({ state: 'hidden' })
      await tileOf('gravatar', victim).waitFor({ state: 'detached' })
      expect(await tiles().count()).toBe(5)
      await page.getByRole('button', { name: 'gravatar: 2 pictures' }).waitFor()
      expect(await page.getByRole('button', { name: 'All networks: 5 pictures' }).isVisible()).toBe(true)
      expect(await page.locator('#summary').textContent()).toContain(`Deleted gravatar/${victim}`)

      // Gone from the server too, not just from the page.
      const details = await page.evaluate(
        async (id) => (await fetch(`/console/api/picture?type=gravatar&id=${id}`)).status,
        victim,
      )
      expect(details).toBe(404)
    },
    STEP_MS,
  )

  test(
    'signing out ends the session',
    async () => {
      await page.getByRole('button', { name: 'Sign out' }).click()
      await page.getByRole('button', { name: 'Sign in' }).waitFor()
      const status = await page.evaluate(async () => (await fetch('/console/api/counts')).status)
      expect(status).toBe(401)
    },
    STEP_MS,
  )
})
