/**
 * Drop-in plugin files (src/plugin-host/dropin.ts): what loads, what is refused and why, and how a
 * drop-in that throws at run time is answered (502 + X-Cld-Error, never a 500).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { builtinPlugins } from '../../plugins/index.ts'
import { starterPlugin } from '../../src/plugin-host/authoring.ts'
import { loadDropInPlugins, pluginFiles, refusedLine } from '../../src/plugin-host/dropin.ts'
import { probeImage } from '../../src/lib/image-header.ts'
import { type FakeJsonApi, startFakeJsonApi } from '../support/fakes/json-api.ts'
import { type Headshot, startHeadshot } from '../support/headshot.ts'

const BUILTIN = builtinPlugins.map((plugin) => plugin.type)
let dirs: string[] = []

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'headshot-dropin-'))
  dirs.push(dir)
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  dirs = []
})

/** A plugin file body; `fields` replaces or adds properties of a valid plugin. */
function pluginFile(type: string, fields = ''): string {
  return `export default ({ definePlugin, ok, Type }) => definePlugin({
  type: '${type}',
  settings: Type.Object({ url: Type.String({ env: 'HEADSHOT_${type.toUpperCase()}_URL', default: 'https://api.example.com', baseUrl: true }) }),
  hosts: ['*.example.com'],
  id: { syntax: 'anything', example: 'x' },
  parseId: (raw) => ok(raw),
  resolve: async () => ({ kind: 'none' }),
  ${fields}
})
`
}

describe('loadDropInPlugins', () => {
  test('loads .ts and .js files (a factory may return several plugins), in file-name order, with their path', async () => {
    const dir = folder({
      'b.ts': starterPlugin('beta'),
      'a.js': `export default (host) => [(${pluginFile('alpha').replace('export default ', '')})(host), (${pluginFile('alpha2').replace('export default ', '')})(host)]`,
      'notes.md': 'not a plugin',
      'headshot-plugin.d.ts': 'export {}',
    })
    const { plugins, refused } = await loadDropInPlugins(dir, BUILTIN, {})
    expect(refused).toEqual([])
    expect(plugins.map((p) => [p.plugin.type, p.source])).toEqual([
      ['alpha', join(dir, 'a.js')],
      ['alpha2', join(dir, 'a.js')],
      ['beta', join(dir, 'b.ts')],
    ])
    expect(plugins[2]!.plugin.parseId('Jane_Doe')).toEqual({ ok: true, value: 'jane_doe' })
  })

  test('an absent folder is no plugins', async () => {
    expect(pluginFiles(join(tmpdir(), 'headshot-no-such-folder'))).toEqual([])
    expect(await loadDropInPlugins(join(tmpdir(), 'headshot-no-such-folder'), BUILTIN, {})).toEqual({
      plugins: [],
      refused: [],
    })
  })

  test('refuses files of the wrong shape, naming the file and the reason; the good ones still load', async () => {
    const dir = folder({
      'good.ts': pluginFile('good'),
      'bad-type.ts': pluginFile('Bad-Type'),
      'no-resolve.ts': pluginFile('nores', 'resolve: undefined,'),
      'plain-settings.js': pluginFile('plain', "settings: { url: 'x' },"),
      'bad-host.ts': pluginFile('badhost', "hosts: ['http://evil.example/'],"),
      'no-id.ts': pluginFile('noid', 'id: undefined,'),
      'not-factory.ts': 'export default { type: "x" }',
      'nothing.ts': 'export const plugin = 1',
      'throws.ts': 'export default () => { throw new Error("no way") }',
      'bad-batch.ts': pluginFile('badbatch', 'resolveMany: { max: 0, run: async () => new Map() },'),
    })
    const { plugins, refused } = await loadDropInPlugins(dir, BUILTIN, {})
    expect(plugins.map((p) => p.plugin.type)).toEqual(['good'])
    const reasons = Object.fromEntries(refused.map((r) => [r.file.slice(dir.length + 1), r.reason]))
    expect(reasons).toEqual({
      'bad-batch.ts': 'resolveMany must be { max: positive integer, run: function }',
      'bad-host.ts': 'host "http://evil.example/" must be a lower-case host name or *.suffix',
      'bad-type.ts': 'type must be a string matching ^[a-z0-9_]+$ (got "Bad-Type")',
      'no-id.ts': 'id must be { syntax: string, example: string }',
      'no-resolve.ts': 'resolve must be a function',
      'not-factory.ts': 'must default-export a factory: export default (host) => plugin',
      'nothing.ts': 'must default-export a factory: export default (host) => plugin',
      'plain-settings.js': 'settings must be a TypeBox object (host.Type.Object({...}))',
      'throws.ts': 'the factory threw: no way',
    })
    expect(refusedLine(refused[0]!)).toBe(`plugin file ${join(dir, 'bad-batch.ts')} refused: ${refused[0]!.reason}`)
  })

  test('refuses a type that is already taken, by a built-in or by an earlier file (the whole file)', async () => {
    const dir = folder({
      'a.ts': pluginFile('mine'),
      'b.ts': pluginFile('mine'),
      'c.ts': `export default (host) => [(${pluginFile('fresh').replace('export default ', '')})(host), (${pluginFile('gravatar').replace('export default ', '')})(host)]`,
    })
    const { plugins, refused } = await loadDropInPlugins(dir, BUILTIN, {})
    expect(plugins.map((p) => p.plugin.type)).toEqual(['mine'])
    expect(refused).toEqual([
      { file: join(dir, 'b.ts'), reason: 'type "mine" is already taken by another plugin' },
      { file: join(dir, 'c.ts'), reason: 'type "gravatar" is already taken by another plugin' },
    ])
  })

  test('refuses files that do not import: syntax error, missing import, top-level throw', async () => {
    const dir = folder({
      'syntax.ts': 'export default (host => {',
      'missing.ts': "import './does-not-exist.ts'\nexport default () => []",
      'top.js': 'throw new Error("boom at import")\nexport default () => []',
    })
    const { plugins, refused } = await loadDropInPlugins(dir, BUILTIN, {})
    expect(plugins).toEqual([])
    expect(refused.map((r) => r.file)).toEqual([join(dir, 'missing.ts'), join(dir, 'syntax.ts'), join(dir, 'top.js')])
    for (const r of refused) expect(r.reason).toStartWith('does not import: ')
    expect(refused[0]!.reason).toContain('does-not-exist')
    expect(refused[2]!.reason).toBe('does not import: boom at import')
  })

  test('refuses a plugin whose settings are invalid in this environment, naming the variable', async () => {
    const dir = folder({ 'demo.ts': starterPlugin('demo') })
    const { plugins, refused } = await loadDropInPlugins(dir, BUILTIN, { HEADSHOT_DEMO_URL: 'ftp://files.example' })
    expect(plugins).toEqual([])
    expect(refused).toEqual([
      {
        file: join(dir, 'demo.ts'),
        reason: 'plugin "demo": HEADSHOT_DEMO_URL must use http or https (got "ftp://files.example")',
      },
    ])
  })
})

describe('a drop-in served by the app', () => {
  let api: FakeJsonApi
  let headshot: Headshot

  beforeAll(async () => {
    api = startFakeJsonApi()
    api.addUser('jane', { seed: 'jane', side: 200 })
    api.addUser('faceless', null)
    const dir = mkdtempSync(join(tmpdir(), 'headshot-dropin-app-'))
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'demo.ts'), starterPlugin('demo'))
    writeFileSync(
      join(dir, 'buggy.ts'),
      pluginFile('buggy', 'resolve: async (id) => { if (id === "x") return null.picture; throw "plain text" },'),
    )
    const env = { HEADSHOT_DEMO_URL: api.url }
    const { plugins, refused } = await loadDropInPlugins(dir, BUILTIN, env)
    expect(refused).toEqual([])
    headshot = await startHeadshot(env, { plugins: [...builtinPlugins, ...plugins.map((p) => p.plugin)] })
    rmSync(dir, { recursive: true, force: true })
  })

  afterAll(async () => {
    await headshot?.close()
    api?.stop()
  })

  test('serves a transformed picture like a built-in', async () => {
    const response = await headshot.get('/image/demo/c_fill,w_64,h_48/jane.png')
    expect(response.status).toBe(200)
    const probe = probeImage(new Uint8Array(await response.arrayBuffer()))
    expect(probe.ok && probe.value).toMatchObject({ format: 'png', width: 64, height: 48 })
    expect((await headshot.get('/image/demo/nobody.jpg')).status).toBe(404)
    expect((await headshot.get('/image/demo/bad%20id.jpg')).status).toBe(400)
  })

  test('a rate-limited upstream is a 503 with Retry-After', async () => {
    api.throttled = true
    try {
      const response = await headshot.get('/image/demo/throttled.jpg')
      expect(response.status).toBe(503)
      expect(response.headers.get('retry-after')).toBeTruthy()
      expect(response.headers.get('x-cld-error')).toContain('demo: HTTP 429')
    } finally {
      api.throttled = false
    }
  })

  test('a drop-in that throws at run time is a 502 naming it, never a 500', async () => {
    for (const id of ['x', 'y']) {
      const response = await headshot.get(`/image/buggy/${id}.jpg`)
      expect(response.status).toBe(502)
      expect(response.headers.get('x-cld-error')).toStartWith('Upstream error: buggy: plugin error: ')
    }
    // The server still serves everything else.
    expect((await headshot.get('/image/demo/c_scale,w_20/jane.jpg')).status).toBe(200)
  })
})
