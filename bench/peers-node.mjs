/**
 * The peers of bench/peers.ts, run under Node (their home: sharp's thread pool is libuv's, sized by
 * UV_THREADPOOL_SIZE before the first job). Plain JavaScript so Node runs it without a build step.
 *
 *   node bench/peers-node.mjs serve <dir>      HTTP on 127.0.0.1, prints {"port": N} once listening:
 *       /sharp/<w>x<h>/q<q>/<file>  the op below run by sharp in this process; answers {"ms": …}, the
 *                                   in-process time (so sharp can be timed between two HTTP requests
 *                                   of the others, under the same load)
 *       anything else               ipx (on its own sharp), files from <dir>
 *   node bench/peers-node.mjs sharp <job.json>  one sharp job (below); prints one JSON line
 *
 * The op: decode + resize (cover, lanczos3) + JPEG at the same settings as ours (MOZJPEG_BASELINE).
 *
 * Jobs (`kind`):
 *   throughput { ops: [{ file, w, h }], seconds, inFlight, quality } → { ops, seconds, perSecond }
 *              the same op, `inFlight` at a time; run with UV_THREADPOOL_SIZE and sharp.concurrency(1)
 *   resize     { items: [{ file, w, h, out }] } → {}: lanczos3 from full resolution (no shrink-on-load),
 *              raw RGB written to `out` (the quality reference for SSIM)
 *   encode     { raw, width, height, qualities, out } → { bytes: [n…] }: sharp's `mozjpeg: true` preset,
 *              each quality written to `<out>-<q>.jpg`
 *   fixture    { file, side, out, quality } → {}: centre square, lanczos3 to side², baseline JPEG
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'

/** mozjpeg's settings as our encoder uses them (trellis, deringing, table 3, optimised Huffman, 4:2:0), baseline like ours. */
export const MOZJPEG_BASELINE = {
  trellisQuantisation: true,
  overshootDeringing: true,
  optimiseCoding: true,
  quantisationTable: 3,
  progressive: false,
  chromaSubsampling: '4:2:0',
}

const [mode, arg] = process.argv.slice(2)

const sharp = (await import('sharp')).default
const derive = (bytes, w, h, quality) =>
  sharp(bytes)
    .resize(w, h, { fit: 'cover', kernel: 'lanczos3' })
    .jpeg({ quality, ...MOZJPEG_BASELINE })
    .toBuffer()

if (mode === 'serve') {
  const { createIPX, createIPXNodeServer, ipxFSStorage } = await import('ipx')
  const ipx = createIPXNodeServer(createIPX({ storage: ipxFSStorage({ dir: arg }) }))
  const files = new Map()
  const server = createServer(async (request, response) => {
    const op = /^\/sharp\/(\d+)x(\d+)\/q(\d+)\/([\w.-]+)$/.exec(request.url ?? '')
    if (!op) return ipx(request, response)
    const [, w, h, q, name] = op
    if (!files.has(name)) files.set(name, readFileSync(join(arg, name)))
    const start = performance.now()
    await derive(files.get(name), Number(w), Number(h), Number(q))
    const ms = performance.now() - start
    response.writeHead(200, { 'content-type': 'application/json' })
    response.end(JSON.stringify({ ms, threads: sharp.concurrency() }))
  })
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`)
  })
} else if (mode === 'sharp') {
  const job = JSON.parse(readFileSync(arg, 'utf8'))
  let result = {}
  switch (job.kind) {
    case 'throughput': {
      sharp.concurrency(1)
      sharp.cache(false)
      const files = new Map()
      for (const op of job.ops) if (!files.has(op.file)) files.set(op.file, readFileSync(op.file))
      let next = 0
      let done = 0
      const deadline = performance.now() + job.seconds * 1000
      const start = performance.now()
      const loop = async () => {
        while (performance.now() < deadline) {
          const op = job.ops[next++ % job.ops.length]
          await derive(files.get(op.file), op.w, op.h, job.quality)
          done++
        }
      }
      await Promise.all(Array.from({ length: job.inFlight }, loop))
      const seconds = (performance.now() - start) / 1000
      result = { ops: done, seconds, perSecond: done / seconds, threads: Number(process.env.UV_THREADPOOL_SIZE ?? 4) }
      break
    }
    case 'resize': {
      for (const item of job.items) {
        const raw = await sharp(readFileSync(item.file))
          .resize(item.w, item.h, { fit: 'fill', kernel: 'lanczos3', fastShrinkOnLoad: false })
          .removeAlpha()
          .raw()
          .toBuffer()
        writeFileSync(item.out, raw)
      }
      break
    }
    case 'encode': {
      const input = sharp(readFileSync(job.raw), { raw: { width: job.width, height: job.height, channels: 3 } })
      const bytes = []
      for (const q of job.qualities) {
        const out = await input.clone().jpeg({ quality: q, mozjpeg: true }).toBuffer()
        writeFileSync(`${job.out}-${q}.jpg`, out)
        bytes.push(out.length)
      }
      result = { bytes }
      break
    }
    case 'fixture': {
      const image = sharp(readFileSync(job.file))
      const { width, height } = await image.metadata()
      const side = Math.min(width, height)
      const out = await image
        .extract({
          left: Math.floor((width - side) / 2),
          top: Math.floor((height - side) / 2),
          width: side,
          height: side,
        })
        .resize(job.side, job.side, { kernel: 'lanczos3' })
        .jpeg({ quality: job.quality })
        .toBuffer()
      writeFileSync(job.out, out)
      break
    }
    default:
      throw new Error(`unknown sharp job ${job.kind}`)
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
} else {
  process.stderr.write('usage: node bench/peers-node.mjs serve <dir> | sharp <job.json>\n')
  process.exit(2)
}
