import type { Logger } from '../../platform/logger.ts'
import { nativeClearing } from '../engine/native-clearing.ts'
import { batchVerifier } from './signatures/batch-verifier.ts'

/** Says when the C clearing engine or the batch signature verifier is missing, and how to build them. */
export function warnWithoutNativeCode(log: Logger, batching: boolean): void {
  const verifier = batchVerifier()
  if (!batching) log.warn({ reason: verifier.available ? 'disabled' : verifier.reason }, 'market: signatures are recovered one by one (about half the intake speed); npm run build:native builds the batch verifier')
  const engine = nativeClearing()
  if (!engine.available) log.warn({ reason: engine.reason }, 'market: clearing with the TypeScript engine (same results, about half the speed); npm run build:native builds the C engine')
}
