/**
 * Store-path warm hits in process: `app.handle` in a loop, 64 in flight, every request a distinct
 * `v<N>` spelling (so the hot-response cache never answers), access lines off. Best of ROUNDS rounds
 * of N requests, µs per request. For CPU profiles: bun --cpu-prof bench/handle.ts.
 * Run: bun run bench/handle.ts [rounds] [n]   (HOT_OFF=1: the hot-response cache turned off, for its cost)
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFakeFacebook } from '../plugins/facebook/fake.ts'
import { createApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { createLogger } from '../src/ops/log.ts'
import { signDeliveryPath } from '../src/url/signature.ts'

const ROUNDS = Number(process.argv[2] ?? 5)
const N = Number(process.argv[3] ?? 10_000)
const IN_FLIGHT = 64
const SECRET = 'bench-secret-0123456789abcdef'

const facebook = startFakeFacebook()
facebook.addUser('400', { seed: 'handle', side: 400 })
const dataDir = mkdtempSync(join(tmpdir(), 'headshot-handle-'))
const env = { HEADSHOT_DATA_DIR: dataDir, HEADSHOT_API_KEY: '1', HEADSHOT_API_SECRET: SECRET, ...facebook.env }
const app = createApp(await loadConfig(env), {
  env,
  log: createLogger({ level: 'warn', write: () => {} }),
  ...(process.env.HOT_OFF ? { hotCacheTtlMs: 0 } : {}),
})
const signed = signDeliveryPath('/image/facebook/c_fill,h_120,w_80/v1/400.jpg', SECRET)
if (!signed.ok) throw new Error(signed.error.message)
const [prefix, suffix] = signed.value.split('/v1/') as [string, string]
const first = await app.handle(new Request(`http://localhost${signed.value}`))
if (first.status !== 200) throw new Error(`status ${first.status}`)
await first.arrayBuffer()

let next = 2
async function round(): Promise<number> {
  let left = N
  const start = performance.now()
  async function worker() {
    while (left-- > 0) {
      const response = await app.handle(new Request(`http://localhost${prefix}/v${next++}/${suffix}`))
      if (response.status !== 200) throw new Error(`status ${response.status}`)
      await response.arrayBuffer()
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  return ((performance.now() - start) * 1000) / N
}

const times: number[] = []
for (let i = 0; i < ROUNDS; i++) times.push(await round())
console.log(
  `store-path warm hit in process: best ${Math.min(...times).toFixed(1)} µs, rounds ${times.map((t) => t.toFixed(1)).join(' ')}`,
)
await app.close()
facebook.stop()
rmSync(dataDir, { recursive: true, force: true })
process.exit(0)
