/**
 * A TCP proxy on loopback in front of a real server that can be told to stall: while stalled it
 * still accepts connections but forwards no byte in either direction (they wait in its buffers),
 * which is what a hung S3 endpoint, a full load balancer or a black-holed route look like to a
 * client. Unstalling forwards everything held, so calls left waiting complete late.
 */
import { createConnection, createServer, type Socket } from 'node:net'

export interface StallProxy {
  /** `http://127.0.0.1:<port>`: point the client here instead of at the target. */
  url: string
  /**
   * Hold every byte from now on; with `only`, hold just the connections whose next request starts
   * like that (e.g. `PUT `), so one kind of call hangs while the others go through.
   */
  stall(only?: string): void
  unstall(): void
  /** Connections accepted so far (a test can see the client really came through). */
  readonly connections: number
  close(): Promise<void>
}

export async function startStallProxy(target: string): Promise<StallProxy> {
  const { hostname, port } = new URL(target)
  let stalled = false
  let only: string | undefined
  let connections = 0
  /** Each open pair's pending bytes, flushed (in order) on unstall. */
  const pairs = new Set<{ flush(): void; destroy(): void }>()

  const server = createServer((client) => {
    connections++
    const upstream = createConnection({ host: hostname, port: Number(port) })
    const held: Array<[Socket, Buffer]> = []
    const forward = (to: Socket) => (chunk: Buffer) => {
      const hold =
        held.length > 0 ||
        (stalled && (only === undefined || (to === upstream && chunk.toString('latin1', 0, only.length) === only)))
      if (hold) held.push([to, chunk])
      else to.write(chunk)
    }
    const pair = {
      flush() {
        for (const [to, chunk] of held.splice(0)) if (!to.destroyed) to.write(chunk)
      },
      destroy() {
        client.destroy()
        upstream.destroy()
      },
    }
    pairs.add(pair)
    client.on('data', forward(upstream))
    upstream.on('data', forward(client))
    const end = () => {
      pairs.delete(pair)
      pair.destroy()
    }
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('stall proxy: no port')
  return {
    url: `http://127.0.0.1:${address.port}`,
    stall(request) {
      stalled = true
      only = request
    },
    unstall() {
      stalled = false
      only = undefined
      for (const pair of pairs) pair.flush()
    },
    get connections() {
      return connections
    },
    async close() {
      for (const pair of pairs) pair.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
