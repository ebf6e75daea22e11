import { useEffect, useState } from 'react'
import type { JoinStatus, Member, MemberEvent } from '../../../protocol/members.ts'
import { shortHex } from '../format.ts'
import { useJson } from '../useJson.ts'

const TOKEN_KEY = 'openvpp-operator-token'

/**
 * The community's members and every change to them; with the operator's token (kept for this browser
 * tab only), the join requests waiting, to approve or refuse.
 */
export function MembersView({ refresh }: { refresh: number }) {
  const [token, setToken] = useState(() => sessionStorage.getItem(TOKEN_KEY) ?? '')
  const [draft, setDraft] = useState('')
  const [pending, setPending] = useState<Omit<JoinStatus, 'connect'>[] | null>(null)
  const [message, setMessage] = useState('')
  const [acted, setActed] = useState(0)
  const members = useJson<Member[]>('/api/members', `${refresh}:${acted}`)
  const events = useJson<MemberEvent[]>('/api/members/events?limit=50', `${refresh}:${acted}`)

  useEffect(() => {
    if (!token) return setPending(null)
    let live = true
    fetch('/api/join', { headers: { authorization: `Bearer ${token}` } })
      .then(async (r) => {
        if (!live) return
        if (r.ok) setPending((await r.json()) as Omit<JoinStatus, 'connect'>[])
        else {
          setPending(null)
          setMessage(((await r.json()) as { message: string }).message)
        }
      })
      .catch(() => undefined)
    return () => {
      live = false
    }
  }, [token, refresh, acted])

  const answer = async (agentId: string, verdict: 'approve' | 'refuse') => {
    const r = await fetch(`/api/join/${encodeURIComponent(agentId)}/${verdict}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' })
    setMessage(r.ok ? `${agentId} ${verdict === 'approve' ? 'approved: it can log in and trade now' : 'refused'}` : ((await r.json()) as { message: string }).message)
    setActed((n) => n + 1)
  }

  return (
    <>
      <section aria-label="Operator" className="operator" data-testid="operator">
        <h2>Join requests</h2>
        {token ? (
          <>
            {pending && pending.length === 0 && <p className="empty">No one is waiting to join.</p>}
            <ul className="join-list">
              {(pending ?? []).map((p) => (
                <li key={p.agentId} data-testid="join-request">
                  <span>
                    <strong>{p.agentId}</strong> {shortHex(p.owner)} {p.node && `at ${p.node}`}
                  </span>
                  <span className="join-actions">
                    <button type="button" onClick={() => void answer(p.agentId, 'approve')} data-testid={`approve-${p.agentId}`}>
                      Approve
                    </button>
                    <button type="button" onClick={() => void answer(p.agentId, 'refuse')}>
                      Refuse
                    </button>
                  </span>
                </li>
              ))}
            </ul>
            <button
              type="button"
              className="link"
              onClick={() => {
                sessionStorage.removeItem(TOKEN_KEY)
                setToken('')
              }}
            >
              Forget the operator token
            </button>
          </>
        ) : (
          <form
            className="token-form"
            onSubmit={(e) => {
              e.preventDefault()
              sessionStorage.setItem(TOKEN_KEY, draft)
              setMessage('')
              setToken(draft)
            }}
          >
            <label htmlFor="operator-token">Operator token</label>
            <input id="operator-token" type="password" autoComplete="off" value={draft} onChange={(e) => setDraft(e.target.value)} data-testid="operator-token" />
            <button type="submit">Sign in</button>
          </form>
        )}
        {message && (
          <p role="status" data-testid="operator-message">
            {message}
          </p>
        )}
      </section>
      <h2>Members</h2>
      <div className="table-scroll">
        <table className="trades" data-testid="members">
          <thead>
            <tr>
              <th>Home</th>
              <th>Address</th>
              <th>Node</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {(members ?? []).map((m) => (
              <tr key={m.agentId} data-testid="member-row">
                <td>{m.agentId}</td>
                <td>{shortHex(m.address)}</td>
                <td>{m.node ?? '–'}</td>
                <td className={m.status === 'active' ? 'settled' : 'settlement-failed'}>{m.status}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Changes</h2>
      <ul className="member-log" data-testid="member-log">
        {(events ?? []).map((e) => (
          <li key={e.id}>
            {new Date(e.at).toLocaleString()}: {e.agentId} {e.kind.replace('_', ' ')}
            {e.detail ? ` (${e.detail})` : ''}
          </li>
        ))}
      </ul>
    </>
  )
}
