/**
 * The peers of bench/peers.ts, run under Node (their home: sharp's thread pool is libuv's, sized by
 * UV_THREADPOOL_SIZE before the first job). Plain JavaScript so Node runs it without a build step.
 *
 *   node bench/peers-node.mjs ipx <dir>        ipx (on sharp) over HTTP on 127.0.0.1, files from <dir>;
 *                                                prints {"port": N} once listening
 *   node bench/peers-node.mjs sharp <job.json>  one sharp job (below); prints one JSON line
 *
 * Jobs (`kind`):
 *   latency    { sources: [{ file, sizes: [[w, h]…] }], runs, quality } → { medians: [ms per source] }
 *              decode + resize (cover, lanczos3) + JPEG, one at a time, sharp's default threads
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

if (mode === 'ipx') {
  const { createIPX, createIPXNodeServer, ipxFSStorage } = await import('ipx')
  const ipx = createIPX({ storage: ipxFSStorage({ dir: arg }) })
  const server = createServer(createIPXNodeServer(ipx))
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`)
  })
} else if (mode === 'sharp') {
  const sharp = (await import('sharp')).default
  const job = JSON.parse(readFileSync(arg, 'utf8'))
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
  const derive = (bytes, w, h, quality) =>
    sharp(bytes)
      .resize(w, h, { fit: 'cover', kernel: 'lanczos3' })
      .jpeg({ quality, ...MOZJPEG_BASELINE })
      .toBuffer()
  let result = {}
  switch (job.kind) {
    case 'latency': {
      const medians = []
      for (const source of job.sources) {
        const bytes = readFileSync(source.file)
        for (const [w, h] of source.sizes.slice(0, 3)) await derive(bytes, w, h, job.quality) // warm-up
        const times = []
        for (let run = 0; run < job.runs; run++) {
          for (const [w, h] of source.sizes) {
            const start = performance.now()
            await derive(bytes, w, h, job.quality)
            times.push(performance.now() - start)
          }
        }
        medians.push(median(times))
      }
      result = { medians, threads: sharp.concurrency() }
      break
    }
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
  process.stderr.write('usage: node bench/peers-node.mjs ipx <dir> | sharp <job.json>\n')
  process.exit(2)
}
