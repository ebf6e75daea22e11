/**
 * Worker thread of the broker's payload checker (payload-checker.ts): checks batches of agents'
 * payloads against their channel's schema and answers with one verdict per payload, in order.
 */
import { parentPort } from 'node:worker_threads'
import { CHECKED_CHANNELS, checkChannelPayload, SHOWN_VALID } from './payload-policy.ts'
import type { PayloadBatch, PayloadBatchVerdicts } from './payload-checker.ts'

parentPort!.on('message', (batch: PayloadBatch) => {
  const n = batch.channels.length
  const verdicts: PayloadBatchVerdicts = { id: batch.id, failures: [], data: [] }
  let start = 0
  for (let i = 0; i < n; i++) {
    const payload = batch.bytes.subarray(start, batch.ends[i]!)
    start = batch.ends[i]!
    if (batch.channels[i] === SHOWN_VALID) continue
    const verdict = checkChannelPayload(CHECKED_CHANNELS[batch.channels[i]!]!, payload)
    if (!verdict.ok) verdicts.failures.push([i, verdict.reason, verdict.detail])
    else if (batch.wantData[i]) verdicts.data.push([i, verdict.data])
  }
  parentPort!.postMessage(verdicts)
})
