import type { EscrowHistory } from '../../../contracts/escrow-history.ts'
import { formatBaseUnits } from '../format.ts'
import { useJson } from '../useJson.ts'

const KIND_LABEL: Record<EscrowHistory['entries'][number]['kind'], string> = {
  deposit: 'Deposit',
  withdrawal_requested: 'Withdrawal requested',
  withdrawal: 'Withdrawal',
  settlement: 'Settlement',
  imbalance_charge: 'Imbalance charge',
}

/**
 * A home's money in escrow: its balance, what its trades not yet settled hold, a pending withdrawal,
 * and every movement rebuilt from the contract's events. Its open orders' hold is not shown: the open
 * book is sealed until gate closure (the homeowner sees it with `vpp wallet balance`).
 */
export function EscrowPanel({ address, decimals, symbol, refresh }: { address: string; decimals: number; symbol?: string; refresh: unknown }) {
  const history = useJson<EscrowHistory>(`/api/escrow/${address}/history`, `${address}:${String(refresh)}`)
  const holds = useJson<{ unsettledTradesBaseUnits: string }>(`/api/escrow/${address}`, `${address}:${String(refresh)}`)
  const money = (base: string) => formatBaseUnits(base, decimals, symbol)
  return (
    <section aria-label="Escrow" data-testid="escrow">
      <h2>Money in escrow</h2>
      <div className="summary">
        <div className="stat">
          <span className="stat-label">Escrow balance</span>
          <span className="stat-value" data-testid="escrow-balance">{history ? money(history.balance) : '–'}</span>
          <span className="stat-note">what its bids and offers stand on</span>
        </div>
        <div className="stat">
          <span className="stat-label">Held for trades not yet settled</span>
          <span className="stat-value" data-testid="escrow-reserved">{holds ? money(holds.unsettledTradesBaseUnits) : '–'}</span>
          <span className="stat-note">open orders: sealed until gate closure</span>
        </div>
        <div className="stat">
          <span className="stat-label">Withdrawal</span>
          <span className="stat-value" data-testid="escrow-withdrawal">{history?.pendingWithdrawal ? money(history.pendingWithdrawal.amount) : 'none'}</span>
          <span className="stat-note">{history?.pendingWithdrawal ? `from ${new Date(history.pendingWithdrawal.withdrawableAt * 1000).toLocaleString()}` : 'vpp wallet withdraw AMOUNT'}</span>
        </div>
      </div>
      <div className="table-scroll">
        <table className="trades" data-testid="escrow-history">
          <thead>
            <tr>
              <th>Block</th>
              <th>What</th>
              <th>Interval</th>
              <th>Amount</th>
            </tr>
          </thead>
          <tbody>
            {(history?.entries ?? []).slice(0, 50).map((e) => (
              <tr key={`${e.tx}:${e.kind}:${e.amount}`} data-testid="escrow-entry" data-kind={e.kind}>
                <td>{e.blockNumber}</td>
                <td>{KIND_LABEL[e.kind]}</td>
                <td>{e.interval ? new Date(e.interval * 1000).toLocaleTimeString() : ''}</td>
                <td>{money(e.amount)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  )
}
