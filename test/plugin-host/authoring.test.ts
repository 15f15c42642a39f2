/**
 * `headshot plugin init`'s files: the starter type-checks against the shipped headshot-plugin.d.ts,
 * a mistake in it is caught, and the declaration agrees with the host's real types (checked by
 * `tsc` in a temp folder that imports both), so the embedded template cannot drift from
 * src/plugin-host/types.ts.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pluginDeclaration, pluginNameProblem, starterPlugin } from '../../src/plugin-host/authoring.ts'

const root = resolve(import.meta.dir, '../..')
const tsc = join(root, 'node_modules', '.bin', 'tsc')
const dirs: string[] = []

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** Run tsc over `files` beside a fresh headshot-plugin.d.ts; returns its output ('' when clean). */
function typeCheck(files: Record<string, string>, withHostSources = false): { code: number; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'headshot-authoring-'))
  dirs.push(dir)
  writeFileSync(join(dir, 'headshot-plugin.d.ts'), pluginDeclaration('0.0.0'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  // An author's folder has nothing else: no node_modules, no DOM or bun types. Only the
  // host-sources check needs bun's types, to compile src/ itself.
  const compilerOptions = {
    strict: true,
    noEmit: true,
    target: 'ESNext',
    module: 'Preserve',
    moduleResolution: 'bundler',
    lib: ['ESNext'],
    allowImportingTsExtensions: true,
    resolveJsonModule: true,
    skipLibCheck: true,
    ...(withHostSources ? { types: ['bun'], typeRoots: [join(root, 'node_modules', '@types')] } : { types: [] }),
  }
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: Object.keys(files) }))
  const run = Bun.spawnSync([tsc, '-p', dir], { cwd: dir, stdout: 'pipe', stderr: 'pipe' })
  return { code: run.exitCode, output: `${run.stdout.toString()}${run.stderr.toString()}` }
}

describe('plugin init files', () => {
  test('the starter type-checks against headshot-plugin.d.ts alone', () => {
    expect(typeCheck({ 'demo.ts': starterPlugin('demo') })).toEqual({ code: 0, output: '' })
  })

  test('the declaration catches an author mistake (unknown setting, unknown resolution)', () => {
    const broken = starterPlugin('demo')
      .replace('settings.token)', 'settings.tokn)')
      .replace("{ kind: 'none' }", "{ kind: 'nothing' }")
    const result = typeCheck({ 'demo.ts': broken })
    expect(result.code).not.toBe(0)
    expect(result.output).toContain("Property 'tokn' does not exist")
    expect(result.output).toContain('"nothing"')
  })

  test('the declaration agrees with the host API and plugin types it stands for', () => {
    const src = (path: string) => JSON.stringify(join(root, 'src', path))
    const sync = `import type * as Declared from './headshot-plugin'
import { pluginHost } from ${src('plugin-host/host-api.ts')}
import type * as Real from ${src('plugin-host/types.ts')}
import type * as RealFetch from ${src('fetch/types.ts')}

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const same = <A, B>(proof: Same<A, B>) => proof

// The host's helpers are what the declaration promises (Type and definePlugin differ only in how
// schemas are typed: the declaration carries a self-contained subset of TypeBox).
export const host: Omit<Declared.PluginHost, 'Type' | 'definePlugin'> = pluginHost
export const checks = [
  same<keyof typeof pluginHost, keyof Declared.PluginHost>(true),
  same<keyof Real.Plugin, keyof Declared.Plugin>(true),
  same<Real.Resolution, Declared.Resolution>(true),
  same<Real.UpstreamErrorCode, Declared.UpstreamErrorCode>(true),
  same<RealFetch.FetchErrorCode, Declared.FetchErrorCode>(true),
  same<RealFetch.FetchedImage, Declared.FetchedImage>(true),
]
// What the host hands a plugin satisfies what the author was told…
export const context = (c: Real.PluginContext<{ url: string }>): Declared.PluginContext<{ url: string }> => c
export const response = (r: RealFetch.HttpResponse): Declared.HttpResponse => r
// …and what the author writes is what the host runs.
export const plugin = (p: Omit<Declared.Plugin, 'settings'>): Omit<Real.Plugin, 'settings'> => p
export const options = (o: Declared.RequestOptions): RealFetch.RequestOptions => o
`
    expect(typeCheck({ 'sync.ts': sync }, true)).toEqual({ code: 0, output: '' })
  })

  test('docs/plugins.md shows the starter exactly as plugin init writes it', async () => {
    const docs = await Bun.file(join(root, 'docs', 'plugins.md')).text()
    expect(docs).toContain(`\`\`\`ts\n${starterPlugin('acme')}\`\`\``)
  })

  test('names become delivery types', () => {
    expect(pluginNameProblem('my_net2')).toBeUndefined()
    expect(pluginNameProblem('My-Net')).toBe('"My-Net" must match ^[a-z0-9_]+$ (it becomes the delivery type)')
  })
})
