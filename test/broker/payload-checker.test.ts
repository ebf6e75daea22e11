import { afterEach, describe, expect, it } from 'vitest'
import type { Worker } from 'node:worker_threads'
import { PayloadChecker } from '../../broker/payload-checker.ts'
import { checkChannelPayload, type PayloadVerdict } from '../../broker/payload-policy.ts'
import { telemetrySnapshot as snapshot } from '../helpers/telemetry-snapshot.ts'


/** A mix of good and bad payloads on every checked channel, each distinguishable by its index. */
function payloads(n: number): { channel: string; payload: Buffer }[] {
  return Array.from({ length: n }, (_, i) => {
    const kinds = [
      { channel: 'telemetry', payload: { seq: i, samples: [snapshot], extra: 'stripped' } },
      { channel: 'telemetry', payload: { seq: -i - 1, samples: [snapshot] } },
      { channel: 'state', payload: { online: i % 2 === 0, session: i } },
      { channel: 'state', payload: `{"online": tru` },
      { channel: 'orders', payload: { order: { owner: '0x1' }, signature: '0x' } },
      { channel: 'meter', payload: [i] },
    ]
    const { channel, payload } = kinds[i % kinds.length]!
    return { channel, payload: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)) }
  })
}

const workerOf = (checker: PayloadChecker) => (checker as unknown as { worker: Worker | null }).worker

describe('PayloadChecker: agents’ payloads checked on a worker thread', () => {
  let checker: PayloadChecker
  afterEach(() => checker.close())

  it('gives each payload the verdict the schema gives, in the order asked, with data only when asked', async () => {
    checker = new PayloadChecker(true)
    const items = payloads(1500)
    const got: [number, PayloadVerdict][] = []
    await new Promise<void>((resolve) =>
      items.forEach(({ channel, payload }, i) =>
        checker.check(channel, payload, i % 3 === 0, (verdict) => {
          got.push([i, verdict])
          if (got.length === items.length) resolve()
        }),
      ),
    )
    expect(workerOf(checker)).not.toBeNull()
    expect(got.map(([i]) => i)).toEqual(items.map((_, i) => i))
    got.forEach(([i, verdict]) => {
      const here = checkChannelPayload(items[i]!.channel, items[i]!.payload)
      if (!here.ok) expect(verdict).toEqual(here)
      else expect(verdict).toEqual(i % 3 === 0 ? here : { ok: true, channel: items[i]!.channel })
    })
    // Telemetry came back as the schema outputs it: unknown keys stripped.
    const telemetry = got.find(([i, v]) => i % 3 === 0 && v.ok && v.channel === 'telemetry')![1] as { data: object }
    expect(telemetry.data).not.toHaveProperty('extra')
  })

  it('checks here what a dead worker had in hand, and starts a new one for the next batch', async () => {
    checker = new PayloadChecker(true)
    const items = payloads(600)
    const verdicts: PayloadVerdict[] = []
    const all = new Promise<void>((resolve) =>
      items.forEach(({ channel, payload }) =>
        checker.check(channel, payload, false, (verdict) => {
          verdicts.push(verdict)
          if (verdicts.length === items.length) resolve()
        }),
      ),
    )
    // 600 > one batch: the first 512 are already posted to the worker, which is killed with them.
    const first = workerOf(checker)!
    await first.terminate()
    await all
    expect(verdicts.map((v) => v.ok)).toEqual(items.map(({ channel, payload }) => checkChannelPayload(channel, payload).ok))

    // More than a light turn's few, so they go to a worker: a new one.
    const next = await Promise.all(Array.from({ length: 40 }, () => new Promise<PayloadVerdict>((resolve) => checker.check('state', Buffer.from('{"online":true}'), false, resolve))))
    expect(next).toEqual(Array.from({ length: 40 }, () => ({ ok: true, channel: 'state' })))
    expect(workerOf(checker)).not.toBeNull()
    expect(workerOf(checker)).not.toBe(first)
  })

  it('answers what was still queued when it closes, and checks on this thread afterwards', async () => {
    checker = new PayloadChecker(true)
    const verdicts: PayloadVerdict[] = []
    for (const { channel, payload } of payloads(12)) checker.check(channel, payload, false, (v) => verdicts.push(v))
    await checker.close()
    expect(verdicts).toHaveLength(12)
    let after: PayloadVerdict | undefined
    checker.check('state', Buffer.from('{"online":false}'), true, (v) => (after = v))
    expect(after).toEqual({ ok: true, channel: 'state', data: { online: false } })
  })

  it('checks a light turn’s few payloads here, at the end of the turn, without a round trip to the worker', async () => {
    checker = new PayloadChecker(true)
    const verdicts: [number, PayloadVerdict][] = []
    const items = payloads(6)
    items.forEach(({ channel, payload }, i) => checker.check(channel, payload, false, (v) => verdicts.push([i, v])))
    // The first, valid telemetry with nothing before it, is shown valid by the native check at once;
    // the others wait for the end of the turn.
    expect(verdicts).toEqual([[0, { ok: true, channel: 'telemetry' }]])
    // The batch is flushed by an immediate queued before this one; a worker's answer could only come later.
    await new Promise((resolve) => setImmediate(resolve))
    expect(verdicts.map(([i]) => i)).toEqual([0, 1, 2, 3, 4, 5])
    expect(verdicts.map(([, v]) => v.ok)).toEqual(items.map(({ channel, payload }) => checkChannelPayload(channel, payload).ok))
  })

  it('answers a payload the native check shows valid in its turn, never before one asked earlier', async () => {
    checker = new PayloadChecker(true)
    const order: string[] = []
    const valid = payloads(1)[0]!.payload
    checker.check('state', Buffer.from('{"online":true}'), false, () => order.push('state'))
    checker.check('telemetry', valid, false, () => order.push('telemetry'))
    // Its data wanted: the native check says nothing about data, so this one is parsed.
    let withData: PayloadVerdict | undefined
    checker.check('telemetry', valid, true, (v) => (withData = v))
    expect(order).toEqual([])
    await new Promise((resolve) => setImmediate(resolve))
    expect(order).toEqual(['state', 'telemetry'])
    expect(withData).toMatchObject({ ok: true, channel: 'telemetry', data: { seq: 0 } })
  })

  it('checks on the calling thread when asked to, and passes channels nothing checks', () => {
    checker = new PayloadChecker(false)
    let verdict: PayloadVerdict | undefined
    checker.check('state', Buffer.from('nope'), false, (v) => (verdict = v))
    expect(verdict).toEqual({ ok: false, reason: 'not_json', detail: 'payload is not JSON' })
    checker.check('awards', Buffer.from('nope'), false, (v) => (verdict = v))
    expect(verdict).toEqual({ ok: true })
    expect(workerOf(checker)).toBeNull()
  })
})
