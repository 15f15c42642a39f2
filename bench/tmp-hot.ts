import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFakeFacebook } from '../plugins/facebook/fake.ts'
import { createApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { createLogger } from '../src/ops/log.ts'
import { signDeliveryPath } from '../src/url/signature.ts'
const SECRET = 'bench-secret-0123456789abcdef'
const facebook = startFakeFacebook()
facebook.addUser('400', { seed: 'handle', side: 400 })
const dataDir = mkdtempSync(join(tmpdir(), 'headshot-hot-'))
const env = { HEADSHOT_DATA_DIR: dataDir, HEADSHOT_API_KEY: '1', HEADSHOT_API_SECRET: SECRET, ...facebook.env }
const level = (process.env.LVL ?? 'info') as 'info'
const app = createApp(await loadConfig(env), { env, log: createLogger({ level, write: () => {} }) })
const signed = signDeliveryPath('/image/facebook/c_fill,h_120,w_80/v1/400.jpg', SECRET)
if (!signed.ok) throw new Error('x')
const url = `http://localhost${signed.value}`
await (await app.handle(new Request(url), '127.0.0.1')).arrayBuffer()
const N = 100_000
async function run(name: string, f: () => Promise<Response> | Response) {
  for (let r = 0; r < 3; r++) {
    const t = performance.now()
    for (let i = 0; i < N; i++) {
      const res = await f()
      if (res.status !== 200) throw new Error(String(res.status))
    }
    const us = ((performance.now() - t) * 1000) / N
    if (r === 2) console.log(name.padEnd(20), us.toFixed(2), 'µs')
  }
}
const body = new Uint8Array(2240)
await run('bare Response', () => new Response(body, { headers: { 'Content-Type': 'image/jpeg' } }))
await run('access+elysia', () => app.handle(new Request(url), '127.0.0.1'))
await run('elysia only', () => app.app.handle(new Request(url)))
process.exit(0)
