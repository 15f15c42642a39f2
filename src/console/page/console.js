// headshot Media Library: plain browser JavaScript, no framework and no build step.
// It talks only to /console/api/…; every image path it shows was built, and signed where the
// network needs it, by the server. Actions carry the session's CSRF token in a header.
// A classic script (not a module), so strict mode is asked for explicitly.
// biome-ignore lint/suspicious/noRedundantUseStrict: classic scripts are sloppy unless told
'use strict'
;(() => {
  if (document.body.dataset.view !== 'library') return

  const PAGE_SIZE = 48
  const $ = (id) => document.getElementById(id)

  const state = {
    csrf: '',
    counts: { total: 0, networks: [] },
    filter: { type: '', prefix: '', sort: 'created_at', direction: 'desc' },
    cursor: null,
    /** Bumped by every list load, so a slow answer to an older filter is dropped. */
    listGeneration: 0,
    /** The picture open in the details panel. */
    current: null,
    /** The tile that opened the panel; focus goes back to it on close. */
    opener: null,
  }

  class ApiError extends Error {
    constructor(message, status) {
      super(message)
      this.status = status
    }
  }

  // ---- server calls --------------------------------------------------------------------------

  function apiUrl(path, params = {}) {
    const url = new URL(`/console/api/${path}`, location.origin)
    for (const [name, value] of Object.entries(params)) {
      if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value))
    }
    return url
  }

  async function api(path, { method = 'GET', params } = {}) {
    const headers = { Accept: 'application/json' }
    if (method !== 'GET') headers['X-CSRF-Token'] = state.csrf
    // No `cache` option: the server marks every answer no-store, and a plain GET can take over the
    // page's <link rel="preload"> of the first list.
    const response = await fetch(apiUrl(path, params), { method, headers, credentials: 'same-origin' })
    if (response.status === 401) {
      // The session expired or was signed out elsewhere: the server answers /console with the sign-in form.
      location.assign('/console')
      throw new ApiError('Signed out', 401)
    }
    const body = await response.json().catch(() => ({}))
    if (!response.ok)
      throw new ApiError(body?.error?.message ?? `Request failed (HTTP ${response.status})`, response.status)
    return body
  }

  const pictureParams = (picture) => ({ type: picture.type, id: picture.publicId })

  // ---- formatting ----------------------------------------------------------------------------

  const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })
  const relativeTime = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })
  const UNITS = [
    ['year', 31536e6],
    ['month', 2592e6],
    ['week', 6048e5],
    ['day', 864e5],
    ['hour', 36e5],
    ['minute', 6e4],
  ]

  function fromNow(ms) {
    const diff = ms - Date.now()
    for (const [unit, size] of UNITS) {
      if (Math.abs(diff) >= size) return relativeTime.format(Math.round(diff / size), unit)
    }
    return diff < 0 ? 'just now' : 'in under a minute'
  }

  const when = (ms) => `${dateTime.format(ms)} (${fromNow(ms)})`

  function formatBytes(n) {
    if (n === null || n === undefined) return '—'
    if (n < 1024) return `${n} B`
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
    return `${(n / 1024 / 1024).toFixed(2)} MB`
  }

  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`
  const STATUS_TEXT = { ok: 'Held', none: 'No picture upstream', not_found: 'Account not found' }

  /** The sweeper reports whatever it likes; show strings as they are and objects as "key: value" pairs. */
  function describeStatus(value) {
    if (typeof value === 'string') return value
    if (!value || typeof value !== 'object') return String(value)
    return Object.entries(value)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([key, v]) => {
        const label = key
          .replace(/([a-z])([A-Z])/g, '$1 $2')
          .replace(/_/g, ' ')
          .toLowerCase()
        const looksLikeTime = typeof v === 'number' && /at$|At$|time/i.test(key) && v > 1e12
        return `${label}: ${looksLikeTime ? fromNow(v) : typeof v === 'object' ? JSON.stringify(v) : v}`
      })
      .join(' · ')
  }

  /** Builds an element; children are nodes or text. */
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag)
    for (const [name, value] of Object.entries(props)) {
      if (name === 'dataset') Object.assign(node.dataset, value)
      else if (name in node) node[name] = value
      else node.setAttribute(name, value)
    }
    node.append(...children)
    return node
  }

  // ---- networks and counts -------------------------------------------------------------------

  async function refreshCounts() {
    state.counts = await api('counts')
    renderNetworks()
  }

  function renderNetworks() {
    const entries = [{ type: '', label: 'All networks', total: state.counts.total, restricted: false }]
    for (const network of state.counts.networks) entries.push({ ...network, label: network.type })
    $('networks').replaceChildren(
      ...entries.map((entry) => {
        const button = el(
          'button',
          {
            type: 'button',
            dataset: { type: entry.type },
            'aria-pressed': String(entry.type === state.filter.type),
            'aria-label': `${entry.label}: ${plural(entry.total, 'picture')}${entry.restricted ? ', signed URLs' : ''}`,
          },
          el(
            'span',
            {},
            entry.label,
            ...(entry.restricted ? [el('span', { className: 'lock', title: 'Needs signed URLs' }, 'signed')] : []),
          ),
          el('span', { className: 'count' }, String(entry.total)),
        )
        button.addEventListener('click', () => {
          state.filter.type = entry.type
          renderNetworks()
          loadList({ append: false })
        })
        return el('li', {}, button)
      }),
    )
    $('grid-heading').textContent = state.filter.type ? `${state.filter.type} pictures` : 'All pictures'
  }

  async function refreshStatus() {
    const { sweeper } = await api('status')
    const line = $('sweeper')
    line.hidden = sweeper === null || sweeper === undefined
    if (!line.hidden) line.textContent = `Refresh sweeper: ${describeStatus(sweeper)}`
  }

  // ---- the grid ------------------------------------------------------------------------------

  function tile(picture) {
    const image = picture.thumbnail
      ? el('img', { src: picture.thumbnail, srcset: `${picture.thumbnail2x} 2x`, alt: '', width: 180, height: 180 })
      : el('span', { className: 'no-picture' }, STATUS_TEXT[picture.status] ?? picture.status)
    const meta =
      picture.status === 'ok' ? `${picture.type} · v${picture.version}` : `${picture.type} · ${picture.status}`
    const button = el(
      'button',
      { type: 'button', className: 'tile' },
      image,
      el(
        'span',
        { className: 'tile-text' },
        el('span', { className: 'tile-id' }, picture.publicId),
        el('span', { className: 'tile-meta' }, meta),
      ),
    )
    button.addEventListener('click', () => openDetails(picture, button))
    return el('li', { dataset: { type: picture.type, id: picture.publicId } }, button)
  }

  function tileOf(picture) {
    return [...$('grid').children].find((li) => li.dataset.type === picture.type && li.dataset.id === picture.publicId)
  }

  async function loadList({ append }) {
    const generation = ++state.listGeneration
    const grid = $('grid')
    grid.setAttribute('aria-busy', 'true')
    try {
      const page = await api('pictures', {
        params: { ...state.filter, cursor: append ? state.cursor : '', limit: PAGE_SIZE },
      })
      if (generation !== state.listGeneration) return
      const tiles = page.pictures.map(tile)
      if (append) grid.append(...tiles)
      else grid.replaceChildren(...tiles)
      state.cursor = page.nextCursor
      $('load-more').hidden = !page.nextCursor
      updateSummary()
    } catch (error) {
      if (generation === state.listGeneration) $('summary').textContent = error.message
    } finally {
      if (generation === state.listGeneration) grid.setAttribute('aria-busy', 'false')
    }
  }

  function updateSummary() {
    const shown = $('grid').children.length
    const prefix = state.filter.prefix ? ` starting with “${state.filter.prefix}”` : ''
    const more = state.cursor ? ' (more below)' : ''
    $('summary').textContent = shown ? `${plural(shown, 'picture')}${prefix} shown${more}` : ''
    $('empty').hidden = shown > 0
  }

  // ---- the details panel ---------------------------------------------------------------------

  async function openDetails(picture, opener) {
    state.opener = opener
    try {
      renderDetails(await api('picture', { params: pictureParams(picture) }))
      if (!$('details').open) $('details').showModal()
      $('details').scrollTop = 0
    } catch (error) {
      $('summary').textContent = error.message
    }
  }

  function renderDetails(details, message = '') {
    state.current = details
    $('details-network').textContent = details.type + (details.restricted ? ' · signed URLs' : '')
    $('details-title').textContent = details.publicId
    renderFigure(details)
    renderFacts(details)
    renderDerivatives(details)
    $('action-status').textContent = message
    $('builder-result').hidden = true
    $('builder-error').hidden = true
    for (const id of ['refresh', 'invalidate']) $(id).disabled = false
    $('invalidate').disabled = details.status !== 'ok'
  }

  function renderFigure(details) {
    const frame = $('figure-frame')
    const image = $('details-image')
    frame.hidden = !details.preview
    $('face-boxes').replaceChildren()
    if (!details.preview) {
      image.removeAttribute('src')
      $('face-summary').textContent = STATUS_TEXT[details.status] ?? details.status
      return
    }
    image.src = details.preview
    image.alt = `${details.type} ${details.publicId}, version ${details.version}`
    // Boxes are in original pixels; percentages keep them on the face whatever size the preview is shown at.
    const boxes = details.faces.map(([x, y, w, h], index) => {
      const box = el('div', { className: 'face-box' }, el('span', {}, String(index + 1)))
      Object.assign(box.style, {
        left: `${(100 * x) / details.width}%`,
        top: `${(100 * y) / details.height}%`,
        width: `${(100 * w) / details.width}%`,
        height: `${(100 * h) / details.height}%`,
      })
      return box
    })
    $('face-boxes').replaceChildren(...boxes)
    $('face-summary').textContent = boxes.length ? `${plural(boxes.length, 'face')} detected` : 'No face detected'
  }

  function renderFacts(details) {
    const rows = [
      ['Status', STATUS_TEXT[details.status] ?? details.status],
      ['Version', `v${details.version}`],
      ['Size', details.width ? `${details.width} × ${details.height} px` : '—'],
      ['Bytes', formatBytes(details.bytes)],
      ['Format', details.format ?? '—'],
      ['Added', when(details.createdAt)],
      ['Last checked', when(details.checkedAt)],
      ['Next check', when(details.nextCheckAt)],
      ['Last download', when(details.fetchedAt)],
      ['Faces', String(details.faces.length)],
    ]
    if (details.contentHash)
      rows.push(['Content hash', el('code', { title: details.contentHash }, `${details.contentHash.slice(0, 16)}…`)])
    if (details.paths) {
      rows.push(['Delivery path', el('code', {}, details.paths.versioned)])
      rows.push(['Latest version', el('code', {}, details.paths.unversioned)])
    }
    $('facts').replaceChildren(
      ...rows.flatMap(([term, value]) => [
        el('dt', {}, term),
        el('dd', { dataset: { fact: term.toLowerCase() } }, value),
      ]),
    )
  }

  function renderDerivatives(details) {
    const body = $('derivatives').tBodies[0]
    body.replaceChildren(
      ...details.derivatives.map((d) => {
        const label = `${d.transformation || '(original)'} → ${d.format}${d.eager ? ' (eager)' : ''}`
        const name = d.path ? el('a', { href: d.path, target: '_blank', rel: 'noopener noreferrer' }, label) : label
        return el(
          'tr',
          {},
          el('td', {}, name),
          el('td', {}, `${d.width} × ${d.height}`),
          el('td', {}, formatBytes(d.bytes)),
          el('td', {}, fromNow(d.lastServedAt)),
        )
      }),
    )
    $('derivatives').hidden = details.derivatives.length === 0
    $('no-derivatives').hidden = details.derivatives.length > 0
  }

  function closeDetails() {
    if ($('details').open) $('details').close()
  }

  $('close-details').addEventListener('click', closeDetails)
  $('details').addEventListener('close', () => {
    state.current = null
    const opener = state.opener
    state.opener = null
    if (opener?.isConnected) opener.focus()
    else $('grid-heading').focus()
  })
  // A click on the dimmed backdrop (outside the drawer's box) closes it too.
  $('details').addEventListener('click', (event) => {
    const box = $('details').getBoundingClientRect()
    const inside =
      event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom
    if (event.target === $('details') && !inside) closeDetails()
  })

  // ---- actions -------------------------------------------------------------------------------

  function confirmAction(title, text, confirmLabel) {
    const dialog = $('confirm')
    $('confirm-title').textContent = title
    $('confirm-text').textContent = text
    $('confirm-ok').textContent = confirmLabel
    dialog.returnValue = ''
    return new Promise((resolve) => {
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true })
      dialog.showModal()
    })
  }

  /** Runs an action with its button disabled and its outcome (or error) in the status line. */
  async function act(button, busyText, run) {
    const status = $('action-status')
    button.disabled = true
    status.textContent = busyText
    try {
      await run()
    } catch (error) {
      status.textContent = error.message
    } finally {
      button.disabled = false
    }
  }

  function replaceTile(details) {
    const old = tileOf(details)
    if (!old) return
    const fresh = tile(details)
    old.replaceWith(fresh)
    // Keep the panel's way back to the grid pointing at the live tile.
    state.opener = fresh.querySelector('button')
  }

  $('refresh').addEventListener('click', () => {
    const picture = state.current
    if (!picture) return
    act($('refresh'), 'Checking upstream…', async () => {
      const outcome = await api('picture/refresh', { method: 'POST', params: pictureParams(picture) })
      const message = outcome.changed
        ? `New version v${outcome.picture.version} fetched; ${plural(outcome.invalidated, 'derivative')} dropped.`
        : 'Unchanged upstream; the stored picture is current.'
      renderDetails(outcome.picture, message)
      replaceTile(outcome.picture)
      await Promise.all([refreshCounts(), refreshStatus()])
    })
  })

  $('invalidate').addEventListener('click', async () => {
    const picture = state.current
    if (!picture) return
    const confirmed = await confirmAction(
      'Invalidate derivatives?',
      `Every stored derivative of ${picture.type}/${picture.publicId} is dropped and made again on its next request.`,
      'Invalidate',
    )
    if (!confirmed) return
    act($('invalidate'), 'Invalidating…', async () => {
      const { invalidated } = await api('picture/invalidate', { method: 'POST', params: pictureParams(picture) })
      renderDetails(
        await api('picture', { params: pictureParams(picture) }),
        `${plural(invalidated, 'derivative')} dropped.`,
      )
    })
  })

  $('delete').addEventListener('click', async () => {
    const picture = state.current
    if (!picture) return
    const confirmed = await confirmAction(
      'Delete this picture?',
      `${picture.type}/${picture.publicId}, its derivatives and stored bytes are deleted. ` +
        'It is fetched again if someone requests it.',
      'Delete',
    )
    if (!confirmed) return
    act($('delete'), 'Deleting…', async () => {
      await api('picture', { method: 'DELETE', params: pictureParams(picture) })
      tileOf(picture)?.remove()
      state.opener = null
      closeDetails()
      updateSummary()
      $('summary').textContent = `Deleted ${picture.type}/${picture.publicId}. ${$('summary').textContent}`
      await refreshCounts()
    })
  })

  // ---- URL builder ---------------------------------------------------------------------------

  $('builder').addEventListener('submit', async (event) => {
    event.preventDefault()
    const picture = state.current
    if (!picture) return
    const error = $('builder-error')
    try {
      const { path } = await api('url', {
        params: {
          ...pictureParams(picture),
          transformation: $('builder-transformation').value,
          format: $('builder-format').value,
        },
      })
      const url = new URL(path, location.origin).href
      error.hidden = true
      $('builder-url').value = url
      $('open-url').href = url
      $('builder-preview').src = path
      $('copy-status').textContent = ''
      $('builder-result').hidden = false
    } catch (failure) {
      $('builder-result').hidden = true
      error.textContent = failure.message
      error.hidden = false
    }
  })

  $('copy-url').addEventListener('click', async () => {
    const field = $('builder-url')
    const status = $('copy-status')
    try {
      await navigator.clipboard.writeText(field.value)
      status.textContent = 'Copied to the clipboard.'
    } catch {
      // No clipboard API (plain http on a non-local host) or no permission: select the text for the user.
      field.focus()
      field.select()
      const copied = typeof document.execCommand === 'function' && document.execCommand('copy')
      status.textContent = copied ? 'Copied to the clipboard.' : 'Selected: press Ctrl+C (⌘C on a Mac) to copy.'
    }
  })

  // ---- filters -------------------------------------------------------------------------------

  let searchTimer
  $('search').addEventListener('input', () => {
    clearTimeout(searchTimer)
    searchTimer = setTimeout(() => {
      state.filter.prefix = $('search').value.trim()
      loadList({ append: false })
    }, 250)
  })
  $('filters').addEventListener('submit', (event) => {
    event.preventDefault()
    clearTimeout(searchTimer)
    state.filter.prefix = $('search').value.trim()
    loadList({ append: false })
  })
  for (const id of ['sort', 'direction']) {
    $(id).addEventListener('change', () => {
      state.filter[id] = $(id).value
      loadList({ append: false })
    })
  }
  $('load-more').addEventListener('click', () => loadList({ append: true }))

  $('sign-out').addEventListener('click', async () => {
    await fetch('/console/sign-out', {
      method: 'POST',
      headers: { 'X-CSRF-Token': state.csrf },
      credentials: 'same-origin',
    })
    location.assign('/console')
  })

  // ---- start ---------------------------------------------------------------------------------

  async function start() {
    const session = api('session').then((s) => {
      state.csrf = s.csrfToken
    })
    // The grid does not wait for the session token: only actions need it.
    await Promise.all([session, loadList({ append: false }), refreshCounts(), refreshStatus()])
  }

  start().catch((error) => {
    $('summary').textContent = error.message
  })
})()
