/**
 * The project's broker alone in a process for the benchmark, so its RSS is its own:
 * BENCH_USERS_FILE and BENCH_PORT in the environment; prints `READY` once listening.
 */
import { readUsersFile } from '../../broker/users-file.ts'
import { startBroker } from '../../broker/mqtt-broker.ts'
import { createLogger } from '../../platform/logger.ts'

const broker = await startBroker({
  users: readUsersFile(process.env.BENCH_USERS_FILE!),
  port: Number(process.env.BENCH_PORT),
  // Ten thousand agents all from loopback: the per-address cap is for a real network.
  limits: { connectionsPerAddress: 20_000, pendingAuthPerAddress: 20_000 },
  logger: createLogger('bench-broker', 'silent'),
})
process.stdout.write('READY\n')
process.on('SIGTERM', () => void broker.close().then(() => process.exit(0)))
