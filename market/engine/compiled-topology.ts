import { bottomUpOrder, type Topology } from './topology.ts'

/** The community tree as arrays indexed by node number, the form the columnar engine walks. */
export interface CompiledTopology {
  ids: readonly string[]
  indexOf: ReadonlyMap<string, number>
  /** Parent node number; -1 for the root. */
  parent: Int32Array
  level: readonly string[]
  feePerKwh: Float64Array
  /** Capacity of the link to the parent in kW; Infinity when unconstrained (and for the root). */
  capacityKw: Float64Array
  /** Children before parents, siblings by id: the order nodes clear in. */
  bottomUp: Int32Array
  /** Children of each node, in bottom-up order. */
  children: readonly Int32Array[]
}

/**
 * Numbers the nodes of a (schema-checked) community tree once, so clearing can run on typed arrays.
 *
 * @example
 * const tree = compileTopology(topology)
 * tree.ids[tree.bottomUp[0]] // the first transformer to clear
 */
export function compileTopology(topology: Topology): CompiledTopology {
  const ids = topology.map((n) => n.id)
  const indexOf = new Map(ids.map((id, i) => [id, i]))
  const parent = Int32Array.from(topology, (n) => (n.parent === null ? -1 : indexOf.get(n.parent)!))
  const bottomUp = Int32Array.from(bottomUpOrder(topology), (id) => indexOf.get(id)!)
  const childLists: number[][] = ids.map(() => [])
  for (const x of bottomUp) if (parent[x]! >= 0) childLists[parent[x]!]!.push(x)
  return {
    ids,
    indexOf,
    parent,
    level: topology.map((n) => n.level),
    feePerKwh: Float64Array.from(topology, (n) => n.feePerKwh),
    capacityKw: Float64Array.from(topology, (n) => n.capacityKw ?? Number.POSITIVE_INFINITY),
    bottomUp,
    children: childLists.map((c) => Int32Array.from(c)),
  }
}

/**
 * What each node's link to its parent carries in one interval, in Wh (kW × interval, rounded down);
 * Infinity for the root and unconstrained links.
 *
 * @example
 * linkCapacitiesWh(tree, 900)[tree.indexOf.get('T1')] // 100_000 for a 400 kW transformer
 */
export function linkCapacitiesWh(tree: CompiledTopology, intervalSeconds: number): Float64Array {
  const capacity = new Float64Array(tree.ids.length)
  for (let x = 0; x < capacity.length; x++) {
    const kw = tree.capacityKw[x]!
    capacity[x] = tree.parent[x] === -1 || kw === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : Math.floor((kw * 1000 * intervalSeconds) / 3600)
  }
  return capacity
}
