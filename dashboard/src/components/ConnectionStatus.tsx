import type { ConnectionStatus as Status } from '../useLiveMarket.ts'

const LABELS: Record<Status, string> = { connecting: 'Connecting…', live: 'Live', offline: 'Offline – reconnecting' }

export function ConnectionStatus({ status }: { status: Status }) {
  return (
    <span className={`status status-${status}`} data-testid="connection-status" role="status" aria-live="polite">
      <span className="status-dot" aria-hidden="true" />
      {LABELS[status]}
    </span>
  )
}
