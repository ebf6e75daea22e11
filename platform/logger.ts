import { pino, type Logger } from 'pino'

export type { Logger }

/**
 * The project logger: JSON lines (pino) on stderr, so stdout stays for what a command prints.
 * `VPP_LOG_LEVEL` sets the level (default `info`; tests use `silent` unless asked).
 */
export function createLogger(name: string, level = process.env.VPP_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: undefined }, pino.destination(2))
}
