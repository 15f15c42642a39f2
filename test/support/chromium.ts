/**
 * Debian's Chromium, driven by playwright-core (which never downloads a browser here), for the
 * console's browser test and its first-load benchmark. Each launch gets a fresh profile directory
 * and the flags that keep Chromium off the network except for the pages we open.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export const haveChromium = (): boolean => existsSync(CHROMIUM_PATH)

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export interface Chromium {
  context: BrowserContext
  close(): Promise<void>
}

/** A headless Chromium with a new temporary profile (`--user-data-dir`), removed on close. */
export async function launchChromium(
  options: { viewport?: { width: number; height: number } } = {},
): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'headshot-chromium-'))
  // A persistent context is how playwright takes a user data dir of our choosing.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: FLAGS,
    viewport: options.viewport ?? { width: 1280, height: 860 },
  })
  return {
    context,
    async close() {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}
