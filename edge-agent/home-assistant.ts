import { z } from 'zod'
import type { Award } from '../protocol/messages.ts'
import type { Snapshot } from '../protocol/snapshot.ts'

export const homeAssistantConfigSchema = z
  .object({
    /** The homeowner's own broker that Home Assistant listens to, e.g. mqtt://homeassistant.local:1883. */
    url: z.string().regex(/^(mqtts?|wss?):\/\/[^/]+/, 'must be mqtt://HOST:1883 or mqtts://HOST:8883'),
    username: z.string().optional(),
    passwordFile: z.string().optional(),
    /** Home Assistant's MQTT discovery prefix. */
    discoveryPrefix: z.string().default('homeassistant'),
  })
  .strict()
export type HomeAssistantConfig = z.infer<typeof homeAssistantConfigSchema>

interface SensorSpec {
  key: string
  name: string
  unit: string
  deviceClass: string
  stateClass: 'measurement' | 'total_increasing'
  /** Where the value is in the state message. */
  path: string
}

/** What the agent shows in Home Assistant: the device as it measures it, and its trading. */
export const HOME_ASSISTANT_SENSORS: SensorSpec[] = [
  { key: 'pv_w', name: 'Solar power', unit: 'W', deviceClass: 'power', stateClass: 'measurement', path: 'pv_w' },
  { key: 'load_w', name: 'Home consumption', unit: 'W', deviceClass: 'power', stateClass: 'measurement', path: 'load_w' },
  { key: 'grid_w', name: 'Grid power (import positive)', unit: 'W', deviceClass: 'power', stateClass: 'measurement', path: 'grid_w' },
  { key: 'battery_w', name: 'Battery power (discharge positive)', unit: 'W', deviceClass: 'power', stateClass: 'measurement', path: 'battery_w' },
  { key: 'battery_soc_pct', name: 'Battery charge', unit: '%', deviceClass: 'battery', stateClass: 'measurement', path: 'battery_soc_pct' },
  { key: 'grid_import_wh', name: 'Grid import', unit: 'Wh', deviceClass: 'energy', stateClass: 'total_increasing', path: 'energy.grid_import_wh' },
  { key: 'grid_export_wh', name: 'Grid export', unit: 'Wh', deviceClass: 'energy', stateClass: 'total_increasing', path: 'energy.grid_export_wh' },
  { key: 'p2p_net_wh', name: 'Neighbours: sold (+) or bought (−) this interval', unit: 'Wh', deviceClass: 'energy', stateClass: 'measurement', path: 'trading.net_wh' },
  { key: 'p2p_price', name: 'Neighbours: my last price', unit: 'base units/kWh', deviceClass: 'monetary', stateClass: 'measurement', path: 'trading.price' },
]

/** The topics of one agent on the homeowner's broker. */
export function homeAssistantTopics(agentId: string, prefix: string) {
  const node = `openvpp_${agentId.replace(/[^A-Za-z0-9_-]/g, '_')}`
  return {
    node,
    state: `openvpp/${agentId}/state`,
    availability: `openvpp/${agentId}/availability`,
    config: (key: string) => `${prefix}/sensor/${node}/${key}/config`,
  }
}

/**
 * Home Assistant MQTT discovery configs (retained), one sensor per measured value, all on one device
 * for the home. Pure.
 * @example homeAssistantDiscovery('home-07', 'homeassistant', snapshot.device)[0].topic // 'homeassistant/sensor/openvpp_home-07/pv_w/config'
 */
export function homeAssistantDiscovery(agentId: string, prefix: string, device: Snapshot['device']): { topic: string; payload: string }[] {
  const t = homeAssistantTopics(agentId, prefix)
  return HOME_ASSISTANT_SENSORS.map((s) => ({
    topic: t.config(s.key),
    payload: JSON.stringify({
      name: s.name,
      unique_id: `${t.node}_${s.key}`,
      object_id: `${t.node}_${s.key}`,
      state_topic: t.state,
      value_template: `{{ value_json.${s.path} }}`,
      unit_of_measurement: s.unit,
      device_class: s.deviceClass,
      state_class: s.stateClass,
      availability_topic: t.availability,
      device: { identifiers: [t.node], name: `OpenVPP ${agentId}`, manufacturer: device.manufacturer ?? 'OpenVPP', model: device.model ?? 'edge agent' },
    }),
  }))
}

/** The state message all sensors read from. Pure. */
export function homeAssistantState(snapshot: Snapshot, award: Award | undefined): string {
  const priced = award?.fills.filter((f) => f.price !== null && f.filledWh > 0) ?? []
  return JSON.stringify({ ...snapshot, trading: { net_wh: award?.netWh ?? 0, price: priced.at(-1)?.price ?? null } })
}
