import { z } from 'zod'

const port = z.number().int().min(0).max(65535)

/**
 * `vpp broker` configuration, from `--config broker.yaml` and/or flags (flags win). Every listener is
 * optional; plain TCP listens on loopback unless told otherwise.
 */
export const brokerConfigSchema = z
  .object({
    users: z.string({ message: 'the path of the users file is required (see `vpp broker adduser`)' }).min(1),
    host: z.string().default('127.0.0.1'),
    /** null turns plain TCP off (e.g. TLS only). */
    port: port.nullable().default(1883),
    tls: z.object({ host: z.string().optional(), port: port.default(8883), cert: z.string().min(1), key: z.string().min(1) }).strict().optional(),
    websocket: z.object({ host: z.string().optional(), port: port.default(8083), path: z.string().startsWith('/').default('/mqtt') }).strict().optional(),
    maxPacketBytes: z.number().int().min(1024).max(268_435_455).default(262_144),
    /** Caps per address, user and client (broker/connection-limits.ts); each defaults as there. */
    limits: z
      .object({
        connections: z.number().int().positive(),
        connectionsPerAddress: z.number().int().positive(),
        pendingAuthPerAddress: z.number().int().positive(),
        sessionsPerUser: z.number().int().positive(),
        subscriptionsPerClient: z.number().int().positive(),
      })
      .partial()
      .strict()
      .optional(),
    drainTimeoutMs: z.number().int().min(0).default(30_000),
    redis: z.url({ protocol: /^rediss?$/, message: 'must be a redis:// URL' }).optional(),
    influx: z
      .object({
        url: z.url({ message: 'must look like http://HOST:8086/DATABASE' }),
        rawRetention: z.string().regex(/^(\d+[hdw]|INF)$/).default('7d'),
        minuteRetention: z.string().regex(/^(\d+[hdw]|INF)$/).default('90d'),
      })
      .strict()
      .optional(),
  })
  .strict()
export type BrokerConfig = z.infer<typeof brokerConfigSchema>
