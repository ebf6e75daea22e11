import { readFileSync, statSync } from 'node:fs'
import type { Hex } from 'viem'
import { agentConfigSchema } from '../edge-agent/agent-config.ts'
import { EdgeAgent } from '../edge-agent/edge-agent.ts'
import { vendorMap } from '../edge-agent/device-maps/vendor-map.ts'
import { loadConfigFile } from '../platform/config-file.ts'
import { createLogger } from '../platform/logger.ts'
import { VppError } from '../protocol/errors.ts'
import { describeModbusEndpoint } from '../edge-agent/modbus/modbus-link.ts'
import { onStopSignal } from '../platform/stop-signal.ts'

const KEY_PATTERN = /^0x[0-9a-fA-F]{64}$/

/**
 * `vpp agent --config agent.yaml`: the agent for one real home, until SIGINT or SIGTERM (systemd's
 * stop), when it publishes itself offline and leaves unsent telemetry in its outbox for the next start.
 */
export async function agentRunCommand(options: { config?: string }): Promise<void> {
  if (!options.config) throw new VppError('VPP_ERR_CONFIG', 'give the agent its config: vpp agent --config agent.yaml (or a subcommand: vpp agent scan|read)')
  const config = loadConfigFile(options.config, agentConfigSchema)
  const profile = config.device.profile ? vendorMap(config.device.profile) : undefined
  const unit = config.device.unit ?? profile?.defaults.unit ?? 1
  const logger = createLogger('vpp', process.env.VPP_LOG_LEVEL ?? 'info')
  const agent = new EdgeAgent({
    agentId: config.agentId,
    community: config.community,
    mqtt: { url: config.mqtt.url, password: readSecret(config.mqtt.passwordFile, 'mqtt.passwordFile'), ca: config.mqtt.caFile ? readFile(config.mqtt.caFile, 'mqtt.caFile') : undefined },
    modbus: config.device.modbus,
    unitId: unit,
    profile: profile && { ...profile, defaults: { ...profile.defaults, unit } },
    modbusLink: { timeoutMs: config.device.timeoutMs, interRequestDelayMs: config.device.interRequestDelayMs, warmupMs: Math.max(config.device.warmupMs, profile?.defaults.warmupMs ?? 0) },
    privateKey: readKey(config.keyFile),
    pollMs: Math.round(config.pollSeconds * 1000),
    telemetryMs: Math.round(config.telemetrySeconds * 1000),
    strategy: config.strategy,
    dataDir: config.dataDir,
    outboxMaxMessages: config.outboxMaxMessages,
    battery: config.battery,
    homeAssistant: config.homeAssistant && {
      url: config.homeAssistant.url,
      username: config.homeAssistant.username,
      password: config.homeAssistant.passwordFile ? readSecret(config.homeAssistant.passwordFile, 'homeAssistant.passwordFile') : undefined,
      discoveryPrefix: config.homeAssistant.discoveryPrefix,
    },
    readOnly: config.readOnly,
    marketUrl: config.marketUrl,
    logger: logger.child({ part: 'agent', agentId: config.agentId }),
  })
  await agent.start()
  const device = describeModbusEndpoint(config.device.modbus)
  console.error(`agent ${config.agentId} (${agent.account.address}) of ${config.community}: device ${device} unit ${unit}${profile ? ` (${profile.name})` : ''}, broker ${config.mqtt.url}${config.marketUrl ? '' : '; no marketUrl, so bids are not budgeted to the escrow'}`)
  await new Promise<void>((resolve) => onStopSignal(() => void agent.stop().then(resolve)))
  console.error('agent stopped')
}

function readFile(path: string, key: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new VppError('VPP_ERR_CONFIG', `${key}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
  }
}

function readSecret(path: string, key: string): string {
  const secret = readFile(path, key).toString('utf8').trim()
  if (!secret) throw new VppError('VPP_ERR_CONFIG', `${key}: ${path} is empty`)
  return secret
}

/** The signing key, refused (as ssh refuses) when others could read it. */
function readKey(path: string): Hex {
  const text = readSecret(path, 'keyFile')
  if ((statSync(path).mode & 0o077) !== 0) throw new VppError('VPP_ERR_CONFIG', `keyFile: ${path} can be read by other users; run chmod 600 ${path}`)
  if (!KEY_PATTERN.test(text)) throw new VppError('VPP_ERR_CONFIG', `keyFile: ${path} does not hold a 0x-prefixed 32-byte private key (make one with vpp keys new)`)
  return text as Hex
}
