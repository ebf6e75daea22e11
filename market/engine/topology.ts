import { z } from 'zod'

/**
 * One node of the community tree (home connections → transformer → feeder → substation). The link is
 * the line from this node up to its parent.
 */
export const topologyNodeSchema = z.object({
  id: z.string().min(1),
  /** null for the root. */
  parent: z.string().min(1).nullable(),
  level: z.enum(['transformer', 'feeder', 'substation']),
  /** Capacity of the link to the parent in kW, each direction; null = unconstrained. */
  capacityKw: z.number().positive().nullable(),
  /** Grid fee in base units per kWh for energy traded between this node's children (and orders at it). */
  feePerKwh: z.number().int().nonnegative(),
})
export type TopologyNode = z.infer<typeof topologyNodeSchema>

export const topologySchema = z
  .array(topologyNodeSchema)
  .min(1)
  .superRefine((nodes, ctx) => {
    const ids = new Set<string>()
    for (const [i, n] of nodes.entries()) {
      if (ids.has(n.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `node id "${n.id}" appears twice` })
      ids.add(n.id)
    }
    const roots = nodes.filter((n) => n.parent === null)
    if (roots.length !== 1) ctx.addIssue({ code: 'custom', path: [], message: `the tree needs exactly one root (parent: null), found ${roots.length}` })
    for (const [i, n] of nodes.entries()) {
      if (n.parent !== null && !ids.has(n.parent)) ctx.addIssue({ code: 'custom', path: [i, 'parent'], message: `parent "${n.parent}" is not a node` })
    }
    // Every node must reach the root without a cycle.
    const byId = new Map(nodes.map((n) => [n.id, n]))
    for (const [i, n] of nodes.entries()) {
      const seen = new Set<string>()
      let at: TopologyNode | undefined = n
      while (at && at.parent !== null) {
        if (seen.has(at.id)) {
          ctx.addIssue({ code: 'custom', path: [i, 'parent'], message: `node "${n.id}" is in a cycle` })
          break
        }
        seen.add(at.id)
        at = byId.get(at.parent)
      }
    }
  })
export type Topology = z.infer<typeof topologySchema>

/** A one-node community: everyone trades at the same transformer, with no fee and no limit. */
export function singleNodeTopology(id = 'community'): Topology {
  return [{ id, parent: null, level: 'transformer', capacityKw: null, feePerKwh: 0 }]
}

/** Node ids ordered so that every child comes before its parent (the order the engine clears in). */
export function bottomUpOrder(topology: Topology): string[] {
  const children = new Map<string, string[]>()
  for (const n of topology) if (n.parent !== null) children.set(n.parent, [...(children.get(n.parent) ?? []), n.id])
  const root = topology.find((n) => n.parent === null)!
  const out: string[] = []
  const visit = (id: string) => {
    for (const c of (children.get(id) ?? []).sort()) visit(c)
    out.push(id)
  }
  visit(root.id)
  return out
}
