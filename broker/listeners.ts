import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import type { Duplex } from 'node:stream'
import { WebSocketServer, createWebSocketStream } from 'ws'
import { listen } from '../platform/listen.ts'

export interface ListenerOptions {
  /** Plain MQTT over TCP; `port: null` turns it off. Default loopback, port 0 (any free port). */
  host?: string
  port?: number | null
  tls?: { host?: string; port: number; cert: string | Buffer; key: string | Buffer }
  websocket?: { host?: string; port: number; path?: string }
}

export interface Listeners {
  urls: { mqtt?: string; mqtts?: string; ws?: string }
  /** The plain TCP listener's port (0 when it is off). */
  port: number
  close(): Promise<void>
}

/**
 * Opens the broker's listeners (any of plain TCP, TLS and MQTT over WebSocket) and hands every new
 * connection's stream to `handle` with the peer's address. A WebSocket frame may carry one packet of
 * at most `maxPacketBytes` plus its fixed header.
 */
export async function openListeners(options: ListenerOptions, maxPacketBytes: number, handle: (stream: Socket | Duplex, remoteAddress: string | undefined) => void): Promise<Listeners> {
  const servers: (NetServer | HttpServer)[] = []
  const urls: Listeners['urls'] = {}
  const host = options.host ?? '127.0.0.1'
  let port = 0
  if (options.port !== null) {
    const server = createNetServer((socket) => handle(socket, socket.remoteAddress))
    port = await listen(server, { port: options.port ?? 0, host })
    urls.mqtt = `mqtt://${host}:${port}`
    servers.push(server)
  }
  if (options.tls) {
    const server = createTlsServer({ cert: options.tls.cert, key: options.tls.key }, (socket) => handle(socket, socket.remoteAddress))
    const tlsHost = options.tls.host ?? host
    urls.mqtts = `mqtts://${tlsHost}:${await listen(server, { port: options.tls.port, host: tlsHost })}`
    servers.push(server)
  }
  if (options.websocket) {
    const path = options.websocket.path ?? '/mqtt'
    const server = createHttpServer((_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: connect with an MQTT client'))
    const wss = new WebSocketServer({ server, path, maxPayload: maxPacketBytes + 5 })
    wss.on('connection', (ws, req) => {
      // authenticate() throttles by the connection's remoteAddress, which a WebSocket stream lacks.
      const stream = Object.assign(createWebSocketStream(ws), { remoteAddress: req.socket.remoteAddress })
      handle(stream, req.socket.remoteAddress)
    })
    const wsHost = options.websocket.host ?? host
    urls.ws = `ws://${wsHost}:${await listen(server, { port: options.websocket.port, host: wsHost })}${path}`
    servers.push(server)
  }
  return {
    urls,
    port,
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              if ('closeAllConnections' in s) s.closeAllConnections()
              s.close(() => resolve())
            }),
        ),
      )
    },
  }
}
