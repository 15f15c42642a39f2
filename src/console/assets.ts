/**
 * The page's three files, embedded in the binary as text (Bun inlines `type: 'text'` imports in
 * `bun build --compile`), so the console works offline with nothing beside the executable.
 *
 * The stylesheet and script are served under names that carry their hash, so the browser may keep
 * them forever; the HTML, which names them, is never cached.
 */
import { createHash } from 'node:crypto'
import htmlText from './page/console.html' with { type: 'text' }
import css from './page/console.css' with { type: 'text' }
import script from './page/console.js' with { type: 'text' }

// bun-types describe `.html` imports as bundles for Bun's dev server; with `type: 'text'` it is the text.
const html = htmlText as unknown as string

export interface Asset {
  path: string
  body: string
  contentType: string
  etag: string
}

function asset(name: string, extension: string, body: string, contentType: string): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 16)
  return { path: `/console/assets/${name}.${hash}.${extension}`, body, contentType, etag: `"${hash}"` }
}

export const STYLESHEET = asset('console', 'css', css, 'text/css; charset=utf-8')
export const SCRIPT = asset('console', 'js', script, 'text/javascript; charset=utf-8')
export const ASSETS: readonly Asset[] = [STYLESHEET, SCRIPT]

export type View = 'sign-in' | 'library'

/**
 * The JSON the library asks for first, fetched while the script is still loading. The URLs must be
 * exactly the ones console.js requests (same parameter order) for the browser to reuse the answers.
 */
export const FIRST_REQUESTS = [
  '/console/api/pictures?sort=created_at&direction=desc&limit=48',
  '/console/api/counts',
  '/console/api/session',
  '/console/api/status',
]

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
    preloads:
      view === 'library'
        ? FIRST_REQUESTS.map((href) => `<link rel="preload" href="${href}" as="fetch" crossorigin>`).join('\n  ')
        : '',
  }
  return html.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = fills[name]
    if (value === undefined) throw new Error(`console page: no value for {{${name}}}`)
    return value
  })
}
