import type { Topology } from '../../../market/engine/topology.ts'
import type { IntervalResult } from '../../../protocol/messages.ts'

export interface LineLoading {
  node: string
  level: string
  capacityWh: number | null
  upWh: number
  downWh: number
  /** The busier direction as a share of capacity (0–1); null for a line without a limit. */
  loading: number | null
  congested: boolean
}

/** Each grid line's loading in one interval, transformers first. Pure. */
export function gridLoading(topology: Topology, result: IntervalResult | undefined): LineLoading[] {
  const flows = new Map((result?.links ?? []).map((l) => [l.node, l]))
  const congested = new Set(result?.congested ?? [])
  const order = { transformer: 0, feeder: 1, substation: 2 } as const
  return topology
    .filter((n) => n.parent !== null)
    .map((n) => {
      const f = flows.get(n.id)
      const capacityWh = f?.capacityWh ?? null
      const upWh = f?.upWh ?? 0
      const downWh = f?.downWh ?? 0
      return { node: n.id, level: n.level, capacityWh, upWh, downWh, loading: capacityWh ? Math.max(upWh, downWh) / capacityWh : null, congested: congested.has(n.id) }
    })
    .sort((a, b) => order[a.level as keyof typeof order] - order[b.level as keyof typeof order] || a.node.localeCompare(b.node))
}
