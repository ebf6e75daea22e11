import type { AgentView } from '../../../protocol/api.ts'
import type { IntervalResult } from '../../../protocol/messages.ts'

export interface HomeFlow {
  from: string
  to: string
  energyWh: number
}

/** Energy from each seller home to each buyer home in one interval, by agent id, largest first. Pure. */
export function homeFlows(result: IntervalResult | undefined, agents: readonly AgentView[]): HomeFlow[] {
  if (!result) return []
  const idOf = new Map(agents.map((a) => [a.address.toLowerCase(), a.agentId]))
  const flows = new Map<string, HomeFlow>()
  for (const t of result.trades) {
    const from = idOf.get(t.seller.toLowerCase()) ?? t.seller
    const to = idOf.get(t.buyer.toLowerCase()) ?? t.buyer
    const key = `${from}→${to}`
    const flow = flows.get(key) ?? { from, to, energyWh: 0 }
    flow.energyWh += t.energyWh
    flows.set(key, flow)
  }
  return [...flows.values()].sort((a, b) => b.energyWh - a.energyWh || a.from.localeCompare(b.from) || a.to.localeCompare(b.to))
}

/** Who each home traded with in one interval, by agent id. */
export function partnersOf(flows: readonly HomeFlow[]): Map<string, string[]> {
  const partners = new Map<string, Set<string>>()
  const add = (a: string, b: string) => partners.set(a, (partners.get(a) ?? new Set()).add(b))
  for (const f of flows) {
    add(f.from, f.to)
    add(f.to, f.from)
  }
  return new Map([...partners].map(([k, v]) => [k, [...v].sort()]))
}

/**
 * The share of demand that neighbours met over the intervals that started since `sinceUnix` (e.g.
 * local midnight): energy traded / energy bid for. Null before any demand.
 */
export function neighbourShare(intervals: readonly IntervalResult[], sinceUnix: number): number | null {
  let traded = 0
  let demand = 0
  for (const r of intervals) {
    if (r.interval < sinceUnix || r.demandWh === undefined) continue
    traded += r.volumeWh
    demand += r.demandWh
  }
  return demand === 0 ? null : traded / demand
}
