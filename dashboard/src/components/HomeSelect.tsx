import type { AgentView } from '../../../protocol/api.ts'

/** A labelled picker of the community's homes; `allLabel` adds a first choice for no home in particular. */
export function HomeSelect({ agents, value, onChange, testId, allLabel }: { agents: AgentView[]; value: string; onChange: (agentId: string) => void; testId: string; allLabel?: string }) {
  return (
    <label>
      Home{' '}
      <select value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
        {allLabel !== undefined && <option value="">{allLabel}</option>}
        {agents.map((a) => (
          <option key={a.agentId} value={a.agentId}>
            {a.agentId}
          </option>
        ))}
      </select>
    </label>
  )
}
