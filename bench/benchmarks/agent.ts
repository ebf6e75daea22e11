import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generatePrivateKey } from 'viem/accounts'
import { stringify as stringifyYaml } from 'yaml'
import { hashPassword } from '../../broker/credentials.ts'
import { startBroker } from '../../broker/mqtt-broker.ts'
import { createLogger } from '../../platform/logger.ts'
import { buildAgent } from '../../scripts/build-agent.ts'
import { demoHomes } from '../../simulator/home-model.ts'
import { LiveNeighbourhood } from '../../simulator/live-neighbourhood.ts'
import type { Benchmark } from '../bench-result.ts'

const WARMUP_S = 10
const WINDOW_S = 60
const TICKS_PER_S = 100 // USER_HZ on Linux

/** CPU seconds used so far and resident memory now, from /proc (Linux). */
function sample(pid: number): { cpuS: number; rssMb: number } {
  // Fields after the command name, which may hold spaces, start after the last ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const cpuS = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S // utime, stime
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
  return { cpuS, rssMb: Math.round((rssKb / 1024) * 10) / 10 }
}

async function measure(child: ChildProcess): Promise<{ cpu_pct: number; rss_mb: number }> {
  await new Promise((resolve) => setTimeout(resolve, WARMUP_S * 1000))
  const start = sample(child.pid!)
  const t0 = Date.now()
  await new Promise((resolve) => setTimeout(resolve, WINDOW_S * 1000))
  const end = sample(child.pid!)
  const elapsedS = (Date.now() - t0) / 1000
  return { cpu_pct: Math.round(((end.cpuS - start.cpuS) / elapsedS) * 100 * 100) / 100, rss_mb: end.rssMb }
}

/**
 * What the agent costs a Raspberry Pi, measured from outside on the artefact a Pi runs
 * (dist/vpp-agent.mjs under plain node): CPU share of one core and resident memory while it polls a
 * home's inverter, battery and meter at 1 Hz and publishes telemetry every 5 s. Baseline: plain node
 * holding one idle MQTT connection, measured the same way.
 */
export const agentBenchmark: Benchmark = {
  name: 'agent',
  description: `dist/vpp-agent.mjs polling inverter, battery and meter at 1 Hz for ${WINDOW_S} s: CPU % of one core and RSS vs. node with one idle MQTT connection`,
  async run() {
    const bundle = await buildAgent()
    const hood = new LiveNeighbourhood({ homes: [demoHomes(2)[1]!] }) // PV and a battery: models 103, 802, 124, 203
    await hood.start()
    const broker = await startBroker({
      users: [
        { username: 'home-01', passwordHash: hashPassword('pw', 1024), role: 'agent', community: 'bench' },
        { username: 'idle', passwordHash: hashPassword('pw', 1024), role: 'dashboard', community: 'bench' },
      ],
      logger: createLogger('broker', 'silent'),
    })
    const dir = mkdtempSync(join(tmpdir(), 'vpp-bench-agent-'))
    writeFileSync(join(dir, 'agent.key'), `${generatePrivateKey()}\n`, { mode: 0o600 })
    writeFileSync(join(dir, 'secret'), 'pw\n')
    writeFileSync(
      join(dir, 'agent.yaml'),
      stringifyYaml({
        agentId: 'home-01',
        community: 'bench',
        mqtt: { url: broker.url, passwordFile: join(dir, 'secret') },
        keyFile: join(dir, 'agent.key'),
        device: { modbus: `tcp://127.0.0.1:${hood.homes[0]!.device.port}`, unit: 1 },
        pollSeconds: 1,
        telemetrySeconds: 5,
        dataDir: join(dir, 'data'),
        strategy: { feedInPrice: 80_000, retailPrice: 300_000 },
      }),
    )
    const idleScript = `const mqtt = require('mqtt'); mqtt.connect(${JSON.stringify(broker.url)}, { username: 'idle', password: 'pw', clientId: 'idle' }); setInterval(() => {}, 1 << 30)`
    const agent = spawn('node', [bundle, '--config', join(dir, 'agent.yaml')], { stdio: 'ignore', env: { ...process.env, VPP_LOG_LEVEL: 'silent' } })
    const idle = spawn('node', ['-e', idleScript], { stdio: 'ignore', cwd: process.cwd() })
    try {
      const [a, b] = await Promise.all([measure(agent), measure(idle)])
      return { name: 'agent', metrics: { rss_mb: a.rss_mb, cpu_pct: a.cpu_pct }, baseline: { name: 'node + idle mqtt', rss_mb: b.rss_mb, cpu_pct: b.cpu_pct } }
    } finally {
      agent.kill('SIGTERM')
      idle.kill('SIGKILL')
      await new Promise((resolve) => agent.once('exit', resolve))
      await broker.close()
      await hood.stop()
    }
  },
}
