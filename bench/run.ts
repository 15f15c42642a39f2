/**
 * `npm run bench`: every benchmark in turn, each printing a table with its own same-run baseline.
 * The face benchmark needs the face data sets (see test/support/face-data.ts).
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { haveFaceData } from '../test/support/face-data.ts'

const root = resolve(import.meta.dir, '..')
const benches: Array<{ name: string; args: string[]; when?: () => boolean }> = [
  { name: 'delivery', args: ['bench/delivery.ts'] },
  { name: 'store', args: ['bench/store.ts'] },
  { name: 'image', args: ['bench/image.ts'] },
  { name: 'work', args: ['bench/work.ts'] },
  // Builds dist/headshot first; wrk, Node (for sharp and ipx) and the face photos are used when present.
  { name: 'peers', args: ['bench/peers.ts'] },
  // Builds dist/headshot first; PostgreSQL + S3 beside SQLite + disk (HEADSHOT_TEST_*; without them, SQLite only).
  { name: 'scale', args: ['bench/scale.ts'] },
  {
    name: 'console',
    args: ['bench/console.ts'],
    when: () => existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'),
  },
  { name: 'faces', args: ['bench/faces.ts', '--set', 'all'], when: () => haveFaceData() },
  // Builds dist/headshot first when it is missing.
  { name: 'soak', args: ['bench/soak.ts'] },
]

let failed = 0
for (const bench of benches) {
  if (bench.when && !bench.when()) {
    console.log(`\n## ${bench.name}: skipped (data or browser not found)`)
    continue
  }
  console.log(`\n## ${bench.name}`)
  const child = Bun.spawnSync([process.execPath, 'run', ...bench.args], {
    cwd: root,
    stdout: 'inherit',
    stderr: 'inherit',
  })
  if (child.exitCode !== 0) failed++
}
process.exit(failed === 0 ? 0 : 1)
