/**
 * `npm run build` → dist/headshot: one executable with the Bun runtime, our code, the built-in
 * plugins, the embedded migrations, imagescript's WASM decoders and native encoder addon, and the
 * transformation worker. The comments below say why each option is set the way it is.
 */
import type { BunPlugin } from 'bun'
import { readFileSync } from 'node:fs'
import { arch, platform } from 'node:os'

const nativeAddon = `${arch()}-${platform()}`

/** imagescript loads its codecs through dynamic paths Bun cannot see; make them static so they are embedded. */
const imagescriptEmbed: BunPlugin = {
  name: 'imagescript-embed',
  setup(build) {
    build.onLoad({ filter: /imagescript[\\/]codecs[\\/]node[\\/]index\.js$/ }, () => ({
      loader: 'js',
      contents: `module.exports = require('./bin/${nativeAddon}.node');`,
    }))
    build.onLoad({ filter: /imagescript[\\/]wasm[\\/]node[\\/]\w+\.js$/ }, (args) => {
      const name = args.path.match(/(\w+)\.js$/)![1]
      const source = readFileSync(args.path, 'utf8')
      const patched = source.replace(
        /readFile\(join\(__dirname, `[^`]+`\)\)/,
        `readFile(require('../any/${name}.wasm'))`,
      )
      if (patched === source) throw new Error(`imagescript-embed: unexpected loader in ${args.path}`)
      return { loader: 'js', contents: patched }
    })
  },
}

const result = await Bun.build({
  // Spell every entrypoint alike (mixing `./src/x` and `src/y` left the worker unresolvable in the
  // binary): the worker is its own entrypoint.
  entrypoints: ['./src/main.ts', './src/workers/derive-worker.ts'],
  compile: { outfile: 'dist/headshot' },
  plugins: [imagescriptEmbed],
  loader: { '.wasm': 'file' },
  format: 'esm',
  bytecode: true,
  // Identifier minification silently breaks Elysia's validation (schema bounds stop being enforced).
  minify: { whitespace: true, syntax: true, identifiers: false },
})
if (!result.success) {
  console.error(result.logs.join('\n'))
  process.exit(1)
}
console.log(`built dist/headshot (${nativeAddon})`)
