/**
 * Calls `stop` on the first SIGINT or SIGTERM and ignores the ones that follow while it stops: a
 * wrapper such as tsx, or a signal sent to the whole process group, delivers the same signal twice,
 * and the default action of the second would kill the process before it has shut down cleanly.
 * @example onStopSignal(() => void server.close().then(() => process.exit(0)))
 */
export function onStopSignal(stop: (signal: NodeJS.Signals) => void): void {
  let stopping = false
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    stop(signal)
  }
  process.on('SIGINT', handle)
  process.on('SIGTERM', handle)
}
