/**
 * Polls `check` until it returns a value (not undefined/false) or `timeoutMs` passes. For waiting on
 * real systems to reach a state; it is a deadline for the test, not a performance assertion.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined && value !== false) return value
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}
