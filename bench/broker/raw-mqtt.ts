/**
 * A minimal MQTT 3.1.1 client for the broker benchmark's load generator: CONNECT with a user name and
 * password, SUBSCRIBE, PUBLISH at QoS 0/1 from pre-encoded packets, PUBACK counting. mqtt.js spends
 * about 100 µs of CPU a message here, so a generator built on it, sharing the machine's two cores with
 * the broker under test, ran out of CPU before mosquitto did; this one spends a few µs.
 * Packet layouts: MQTT 3.1.1 §3.1 (CONNECT), §3.3 (PUBLISH), §3.4 (PUBACK), §3.8 (SUBSCRIBE).
 */
import { connect as netConnect, type Socket } from 'node:net'

const CONNACK = 2
const PUBLISH = 3
const PUBACK = 4
const SUBACK = 9

function remainingLength(n: number): number[] {
  const bytes: number[] = []
  do {
    let b = n % 128
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    bytes.push(b)
  } while (n > 0)
  return bytes
}

const str = (s: string) => {
  const b = Buffer.from(s, 'utf8')
  return [b.length >> 8, b.length & 0xff, ...b]
}

function packet(firstByte: number, body: number[] | Buffer): Buffer {
  return Buffer.concat([Buffer.from([firstByte, ...remainingLength(body.length)]), Buffer.from(body)])
}

/** A PUBLISH packet for `topic` whose payload is `payload`; QoS 1 packets carry id 0, set per send. */
export function publishPacket(topic: string, payload: Buffer, qos: 0 | 1): { bytes: Buffer; payloadOffset: number; idOffset: number } {
  const head = [...str(topic), ...(qos === 1 ? [0, 0] : [])]
  const bytes = packet(qos === 1 ? 0x32 : 0x30, Buffer.concat([Buffer.from(head), payload]))
  const payloadOffset = bytes.length - payload.length
  return { bytes, payloadOffset, idOffset: payloadOffset - 2 }
}

export interface RawClient {
  socket: Socket
  /** PUBACKs received so far. */
  acks: number
  /** Called after a chunk of input that carried PUBACKs (once per chunk, not per PUBACK). */
  onAcks?: () => void
  /** Called with each PUBLISH received: the payload (a view, valid only during the call). */
  onPublish?: (payload: Buffer) => void
  onSubAck?: () => void
}

/** Connects and authenticates; resolves once the broker accepted (CONNACK 0). */
export function connectRaw(url: string, clientId: string, username: string, password: string): Promise<RawClient> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: hostname, port: Number(port) })
    socket.setNoDelay(true)
    const client: RawClient = { socket, acks: 0 }
    let buffer: Buffer = Buffer.alloc(0)
    let connected = false
    socket.on('error', reject)
    socket.on('connect', () => {
      // Protocol name, level 4, flags: user name, password, clean session; keep-alive 60 s.
      const body = [...str('MQTT'), 4, 0xc2, 0, 60, ...str(clientId), ...str(username), ...str(password)]
      socket.write(packet(0x10, body))
    })
    socket.on('data', (chunk: Buffer) => {
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk
      let at = 0
      const acksBefore = client.acks
      // PUBACKs for the QoS 1 messages of this chunk, sent together: one write, not one per message.
      const acks: number[] = []
      while (at + 2 <= buffer.length) {
        let length = 0
        let multiplier = 1
        let i = at + 1
        let complete = false
        for (; i < buffer.length && i < at + 5; i++) {
          length += (buffer[i]! & 0x7f) * multiplier
          multiplier *= 128
          if ((buffer[i]! & 0x80) === 0) {
            complete = true
            i++
            break
          }
        }
        if (!complete || i + length > buffer.length) break
        const type = buffer[at]! >> 4
        if (type === PUBACK) client.acks++
        else if (type === PUBLISH) {
          const qos = (buffer[at]! >> 1) & 3
          const topicLength = (buffer[i]! << 8) | buffer[i + 1]!
          let payloadAt = i + 2 + topicLength
          if (qos > 0) {
            acks.push(0x40, 2, buffer[payloadAt]!, buffer[payloadAt + 1]!)
            payloadAt += 2
          }
          client.onPublish?.(buffer.subarray(payloadAt, i + length))
        } else if (type === SUBACK) client.onSubAck?.()
        else if (type === CONNACK && !connected) {
          if (buffer[i + 1] !== 0) return reject(new Error(`CONNACK refused, return code ${buffer[i + 1]}`))
          connected = true
          resolve(client)
        }
        at = i + length
      }
      buffer = at < buffer.length ? buffer.subarray(at) : Buffer.alloc(0)
      if (acks.length) socket.write(Buffer.from(acks))
      if (client.acks !== acksBefore) client.onAcks?.()
    })
  })
}

/** Subscribes to `filter` at `qos`; resolves on the SUBACK. */
export function subscribeRaw(client: RawClient, filter: string, qos: 0 | 1): Promise<void> {
  return new Promise((resolve) => {
    client.onSubAck = () => {
      client.onSubAck = undefined
      resolve()
    }
    client.socket.write(packet(0x82, [0, 1, ...str(filter), qos]))
  })
}
