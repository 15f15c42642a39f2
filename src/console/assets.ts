/**
 * The page's three files, embedded in the binary as text (Bun inlines `type: 'text'` imports in
 * `bun build --compile`), so the console works offline with nothing beside the executable.
 *
 * The stylesheet and script are served under names that carry their hash, so the browser may keep
 * them forever; the HTML, which names them, is never cached.
 */
import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import htmlText from './page/console.html' with { type: 'text' }
import css from './page/console.css' with { type: 'text' }
import script from './page/console.js' with { type: 'text' }

// bun-types describe `.html` imports as bundles for Bun's dev server; with `type: 'text'` it is the text.
const html = htmlText as unknown as string

export interface Asset {
  path: string
  body: string
  /** The body gzipped once at start, for clients that accept it (a third of the bytes over a real network). */
  gzipped: Uint8Array
  contentType: string
  etag: string
}

function asset(name: string, extension: string, body: string, contentType: string): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 16)
  const gzipped = new Uint8Array(gzipSync(body, { level: 9 }))
  return { path: `/console/assets/${name}.${hash}.${extension}`, body, gzipped, contentType, etag: `"${hash}"` }
}

export const STYLESHEET = asset('console', 'css', css, 'text/css; charset=utf-8')
export const SCRIPT = asset('console', 'js', script, 'text/javascript; charset=utf-8')
export const ASSETS: readonly Asset[] = [STYLESHEET, SCRIPT]

export type View = 'sign-in' | 'library'

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

/** The document for one view; `message` is the sign-in form's error line (plain text). */
export function renderPage(view: View, message = ''): string {
  const fills: Record<string, string> = {
    stylesheet: STYLESHEET.path,
    script: SCRIPT.path,
    view,
    signInHidden: view === 'sign-in' ? '' : 'hidden',
    libraryHidden: view === 'library' ? '' : 'hidden',
    message: escapeHtml(message),
    messageHidden: message ? '' : 'hidden',
  }
  return html.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = fills[name]
    if (value === undefined) throw new Error(`console page: no value for {{${name}}}`)
    return value
  })
}
