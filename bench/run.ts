/**
 * `npm run bench`: every benchmark in turn, each printing a table with its own same-run baseline.
 * The face benchmark is skipped when its data sets are missing (see bench/README.md, Face detection).
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dir, '..')
const benches: Array<{ name: string; args: string[]; when?: () => boolean }> = [
  { name: 'delivery', args: ['bench/delivery.ts'] },
  { name: 'image', args: ['bench/image.ts'] },
  { name: 'console', args: ['bench/console.ts'], when: () => existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium') },
  {
    name: 'faces',
    args: ['bench/faces.ts', '--set', 'all'],
    when: () => existsSync(join(process.env.FACES_DATA ?? join(root, '..', 'shared', 'data'), 'faces')),
  },
]

let failed = 0
for (const bench of benches) {
  if (bench.when && !bench.when()) {
    console.log(`\n## ${bench.name}: skipped (data or browser not found)`)
    continue
  }
  console.log(`\n## ${bench.name}`)
  const child = Bun.spawnSync([process.execPath, 'run', ...bench.args], { cwd: root, stdout: 'inherit', stderr: 'inherit' })
  if (child.exitCode !== 0) failed++
}
process.exit(failed === 0 ? 0 : 1)
