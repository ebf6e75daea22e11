import { describe, expect, it } from 'vitest'
import { AgentRegistry } from '../../market/service/agent-registry.ts'

const a1 = '0x00000000000000000000000000000000000000a1' as const
const a2 = '0x00000000000000000000000000000000000000A2' as const
const snapshot = (ts: string, pv_w: number) => ({ ts, device: { manufacturer: null, model: null, serial: null, version: null }, inverter_ac_w: null, pv_w, grid_w: null, battery_w: null, battery_soc_pct: null, load_w: null, energy: { pv_total_wh: null, grid_import_wh: null, grid_export_wh: null }, models: [] })

describe('agent registry', () => {
  it("places members at their node (the root when they name none) and finds them by any case of their address", () => {
    const r = new AgentRegistry('substation')
    r.set({ agentId: 'home-01', address: a1 })
    r.set({ agentId: 'home-02', address: a2, node: 'T1' })
    expect([r.nodeOf('home-01'), r.nodeOf('home-02'), r.nodeOf('stranger')]).toEqual(['substation', 'T1', undefined])
    expect(r.agentIdOf(a2.toLowerCase())).toBe('home-02')
    expect(r.addressOf('home-01')).toBe(a1)
  })

  it('keeps a view across a key rotation, and still names a removed or rotated-away address for past trades', () => {
    const r = new AgentRegistry('root')
    r.set({ agentId: 'home-01', address: a1 })
    r.applyState('home-01', { online: true, session: 3 })
    r.set({ agentId: 'home-01', address: a2 })
    expect(r.all()).toMatchObject([{ agentId: 'home-01', address: a2, online: true, session: 3 }])
    expect(r.agentIdOf(a1)).toBe('home-01')
    r.remove('home-01')
    expect(r.addressOf('home-01')).toBeUndefined()
    expect(r.all()).toEqual([])
    expect(r.agentIdOf(a2)).toBe('home-01')
  })

  it("takes state and telemetry only for members; the Will's bare offline keeps the escrow flag", () => {
    const r = new AgentRegistry('root')
    r.set({ agentId: 'home-01', address: a1 })
    expect(r.applyState('stranger', { online: true })).toBeUndefined()
    expect(r.applyTelemetry('stranger', { seq: 1, samples: [snapshot('2026-12-05T10:00:00.000Z', 1)] })).toBeUndefined()
    r.applyState('home-01', { online: true, session: 1, escrowShort: true })
    expect(r.onlineCount).toBe(1)
    const offline = r.applyState('home-01', { online: false })!
    expect(offline).toMatchObject({ online: false, session: 1, escrowShort: true })
    expect(r.onlineCount).toBe(0)
    const view = r.applyTelemetry('home-01', { seq: 2, samples: [snapshot('2026-12-05T10:00:00.000Z', 1), snapshot('2026-12-05T10:00:05.000Z', 2)] })!
    expect(view.snapshot?.pv_w).toBe(2)
    expect(view.lastSeen).toBe('2026-12-05T10:00:05.000Z')
  })
})
