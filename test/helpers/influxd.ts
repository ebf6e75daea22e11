import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../platform/free-port.ts'
import { waitFor } from './wait-for.ts'

export const INFLUXD = '/usr/bin/influxd'

export interface RunningInfluxd {
  url: (database: string) => string
  port: number
  /** Stops the server but keeps its data, as an outage would. */
  kill(): Promise<void>
  /** Starts it again on the same port and data after `kill()`. */
  restart(): Promise<void>
  stop(): Promise<void>
}

/** A throwaway InfluxDB 1.x (Debian's `influxd`) on free loopback ports, its data in a temp folder. */
export async function startInfluxd(): Promise<RunningInfluxd> {
  const dir = mkdtempSync(join(tmpdir(), 'vpp-influx-'))
  const port = await freePort()
  const rpcPort = await freePort()
  const config = join(dir, 'influxdb.conf')
  writeFileSync(
    config,
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${port}"
  log-enabled = false
[continuous_queries]
  run-interval = "1s"
  log-enabled = false
[monitor]
  store-enabled = false
`,
  )
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  const start = async () => {
    const proc = spawn(INFLUXD, ['-config', config], { stdio: 'ignore' })
    child = proc
    exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
    await waitFor('influxd to answer /ping', async () => (await fetch(`http://127.0.0.1:${port}/ping`)).status === 204, 30_000, 100)
  }
  const kill = async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM')
      await exited
    }
  }
  await start()
  return {
    url: (database) => `http://127.0.0.1:${port}/${database}`,
    port,
    kill,
    restart: start,
    async stop() {
      await kill()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
