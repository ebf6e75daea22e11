/**
 * Worker thread of a study: simulates the chunks it is sent and posts back what each recorded
 * (typed arrays transferred, not copied), with a message per simulated day for the progress bar.
 */
import { parentPort } from 'node:worker_threads'
import type { Scenario } from './scenario.ts'
import { simulateChunk } from './study.ts'
import { emptyStudyRun, type StudyChunk, type StudyMode } from './study-run.ts'

parentPort!.on('message', (job: { scenario: Scenario; mode: StudyMode; days: number; chunk: StudyChunk }) => {
  const part = emptyStudyRun(job.scenario, job.mode, job.days)
  simulateChunk(job.scenario, job.mode, job.chunk, part, () => parentPort!.postMessage({ type: 'day' }))
  const buffers = [part.intervalStartMs, ...Object.values(part.series), ...Object.values(part.homes).filter((v) => v instanceof Float64Array), part.transformers.peakImportW, part.transformers.peakExportW, part.transformers.intervalsOverCapacity, part.transformers.dailyPeakLoading, part.surplusByDayHour].map(
    (a) => (a as Float64Array).buffer as ArrayBuffer,
  )
  parentPort!.postMessage({ type: 'chunk', part }, buffers)
})
