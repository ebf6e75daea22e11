import { useEffect, useState } from 'react'
import { io } from 'socket.io-client'
import type { AgentView, TradeView } from '../../protocol/api.ts'
import type { IntervalResult, MarketState } from '../../protocol/messages.ts'
import type { Snapshot } from '../../protocol/snapshot.ts'

export type ConnectionStatus = 'connecting' | 'live' | 'offline'

export interface LiveMarket {
  status: ConnectionStatus
  market: MarketState | null
  agents: AgentView[]
  intervals: IntervalResult[]
  trades: TradeView[]
  /** Counts orders accepted in the open interval, so views showing the book know to re-read it. */
  orderEvents: number
  /** Counts intervals cleared or settled, so views with their own REST data know to re-read it. */
  intervalEvents: number
  /** Counts membership changes (joins, approvals, removals), for the members view. */
  memberEvents: number
}

const MAX_INTERVALS = 50

/**
 * The dashboard's live state: a snapshot on (re)connect over socket.io, then events as they happen.
 * socket.io reconnects by itself after the server restarts; trades are re-read over REST when an
 * interval clears or settles.
 */
export function useLiveMarket(): LiveMarket {
  const [status, setStatus] = useState<ConnectionStatus>('connecting')
  const [market, setMarket] = useState<MarketState | null>(null)
  const [agents, setAgents] = useState<AgentView[]>([])
  const [intervals, setIntervals] = useState<IntervalResult[]>([])
  const [trades, setTrades] = useState<TradeView[]>([])
  const [orderEvents, setOrderEvents] = useState(0)
  const [intervalEvents, setIntervalEvents] = useState(0)
  const [memberEvents, setMemberEvents] = useState(0)

  useEffect(() => {
    const socket = io({ transports: ['websocket', 'polling'] })
    const loadTrades = () =>
      fetch('/api/trades?limit=100')
        .then((r) => (r.ok ? (r.json() as Promise<TradeView[]>) : Promise.reject(new Error(r.statusText))))
        .then(setTrades)
        .catch(() => undefined)

    socket.on('connect', () => {
      setStatus('live')
      void loadTrades()
    })
    socket.on('disconnect', () => setStatus('offline'))
    socket.io.on('reconnect_attempt', () => setStatus('offline'))
    socket.on('hello', (hello: { market: MarketState; agents: AgentView[]; intervals: IntervalResult[] }) => {
      setMarket(hello.market)
      setAgents(hello.agents)
      setIntervals(hello.intervals)
    })
    socket.on('market', setMarket)
    socket.on('agent', (agent: AgentView) => setAgents((list) => list.map((a) => (a.agentId === agent.agentId ? { ...a, ...agent } : a))))
    socket.on('telemetry', ({ agentId, snapshot }: { agentId: string; snapshot: Snapshot }) =>
      setAgents((list) => list.map((a) => (a.agentId === agentId ? { ...a, snapshot, online: true } : a))),
    )
    socket.on('interval', (result: IntervalResult) => {
      setIntervals((list) => [result, ...list.filter((r) => r.interval !== result.interval)].sort((a, b) => b.interval - a.interval).slice(0, MAX_INTERVALS))
      setIntervalEvents((n) => n + 1)
      void loadTrades()
    })
    socket.on('order', () => setOrderEvents((n) => n + 1))
    socket.on('member', () => setMemberEvents((n) => n + 1))
    return () => {
      socket.close()
    }
  }, [])

  return { status, market, agents, intervals, trades, orderEvents, intervalEvents, memberEvents }
}
