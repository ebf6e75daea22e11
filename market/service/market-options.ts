import type { Address, Hex } from 'viem'
import type { Logger } from '../../platform/logger.ts'
import type { TelemetryStore } from '../../telemetry/telemetry-store.ts'
import type { Deployment } from '../../contracts/deploy.ts'
import type { PricingRule } from '../engine/hierarchical-clearing.ts'
import type { Topology } from '../engine/topology.ts'
import { VppError } from '../../protocol/errors.ts'
import type { MarketState } from '../../protocol/messages.ts'

export interface Member {
  agentId: string
  address: Address
  /** The grid node (transformer) the home is connected to; the root when absent. */
  node?: string
}

/** A real market's interval: 15 minutes, the settlement period of most European power markets. */
export const DEFAULT_INTERVAL_SECONDS = 900
export interface MarketOptions {
  community: string
  /** Default 900 (15 min). */
  intervalSeconds?: number
  /** The community's grid tree; one node with no fee or limit when absent. */
  topology?: Topology
  /** Default pay-as-clear. */
  pricing?: PricingRule
  mqtt: { url: string; username: string; password: string }
  members: Member[]
  chain: { rpcUrl: string; deployment: Deployment; operatorKey: Hex }
  dataDir: string
  /** Base units per kWh. */
  priceFloor: number
  priceCap: number
  maxOrderWh: number
  /** The utility's feed-in and retail tariffs, for the dashboard's earnings and savings. */
  referenceTariffs?: { feedInPrice: number; retailPrice: number }
  /**
   * Where telemetry history is read from. Absent: an in-memory store the market fills from its own
   * subscription. Given with `writtenBy: 'broker'`: the broker's sink fills it (InfluxDB) and the
   * market only reads.
   */
  telemetry?: { store: TelemetryStore; writtenBy: 'broker' | 'market' }
  /**
   * Orders one agent (MQTT) may send at once and per second after that (default 40, 2), and one HTTP
   * client address (default 400, 20: a gateway may speak for many homes).
   */
  rateLimit?: { agent?: { burst: number; perSecond: number }; http?: { burst: number; perSecond: number } }
  /**
   * Orders one agent may have open in one interval (default 24): bounds the work, and the size of the
   * settlement transaction, that one member can cause.
   */
  maxOrdersPerInterval?: number
  /**
   * Most fills one settlement transaction carries; an interval with more settles in parts. Default:
   * what half of the chain's block gas limit holds (settlement-parts.ts).
   */
  settlementMaxFills?: number
  logger: Logger
}

/**
 * Refuses a settlement contract deployed for another community or interval length: the market would
 * accept orders the contract can never settle.
 */
export function checkDeploymentFits(options: Pick<MarketOptions, 'community' | 'chain'>, communityKey: Hex, intervalSeconds: number): void {
  if (options.chain.deployment.community.toLowerCase() !== communityKey.toLowerCase()) {
    throw new VppError('VPP_ERR_CONFIG', `the settlement contract at ${options.chain.deployment.settlement} settles another community (key ${options.chain.deployment.community}), not "${options.community}" (key ${communityKey}): give the market the contract deployed for this community (vpp contracts deploy --community ${options.community})`)
  }
  const contractInterval = options.chain.deployment.intervalLength
  if (intervalSeconds !== contractInterval) {
    throw new VppError('VPP_ERR_CONFIG', `intervalSeconds ${intervalSeconds} is not the settlement contract's interval length (${contractInterval} s): set the market's interval to ${contractInterval} s, or deploy a contract for this interval length (vpp contracts deploy --interval)`)
  }
}

/** `market/state`: everything an agent needs to sign an order for the open interval. */
export function marketState(options: MarketOptions, communityKey: Hex, intervalSeconds: number, openInterval: number): MarketState {
  const d = options.chain.deployment
  return {
    community: options.community,
    communityKey,
    openInterval,
    gateClosure: openInterval,
    intervalSeconds,
    chainId: d.chainId,
    settlement: d.settlement,
    token: d.token,
    tokenDecimals: d.tokenDecimals,
    tokenSymbol: d.tokenSymbol,
    priceFloor: options.priceFloor,
    priceCap: options.priceCap,
    ...(options.referenceTariffs ? { referenceTariffs: options.referenceTariffs } : {}),
    ts: new Date().toISOString(),
  }
}
