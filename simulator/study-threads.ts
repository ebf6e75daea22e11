import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { Scenario } from './scenario.ts'
import { measuredInputs } from './study-measured.ts'
import { emptyStudyRun, mergeStudyRun, studyChunks, type StudyOptions, type StudyRun } from './study-run.ts'

/**
 * `runStudy` on worker threads: the study's chunks (fixed length, each with its warm-up days) are
 * handed out to one worker per core as they free up, and merged. The result is the same, bit for bit,
 * as `runStudy` on one thread.
 *
 * @example
 * const run = await runStudyOnThreads(scenario, { days: 365, mode: 'p2p', onDay: (d) => bar.update(d) })
 */
export async function runStudyOnThreads(scenario: Scenario, options: StudyOptions & { threads?: number }): Promise<StudyRun> {
  // Measured inputs are checked here, before any thread starts, so a bad file fails at once.
  measuredInputs(scenario, options.days)
  const chunks = studyChunks(options.days, options.chunkDays)
  const run = emptyStudyRun(scenario, options.mode, options.days)
  const threads = Math.max(1, Math.min(options.threads ?? availableParallelism(), chunks.length))
  let next = 0
  let daysDone = 0
  const lane = async () => {
    const worker = new Worker(new URL('./study-worker-bootstrap.mjs', import.meta.url))
    try {
      while (next < chunks.length) {
        const chunk = chunks[next++]!
        const part = await new Promise<StudyRun>((resolve, reject) => {
          const onMessage = (m: { type: 'day' } | { type: 'chunk'; part: StudyRun }) => {
            if (m.type === 'day') options.onDay?.(++daysDone)
            else {
              worker.off('message', onMessage)
              worker.off('error', reject)
              resolve(m.part)
            }
          }
          worker.on('message', onMessage)
          worker.once('error', reject)
          worker.postMessage({ scenario, mode: options.mode, days: options.days, chunk })
        })
        mergeStudyRun(run, part)
      }
    } finally {
      await worker.terminate()
    }
  }
  await Promise.all(Array.from({ length: threads }, lane))
  return run
}
