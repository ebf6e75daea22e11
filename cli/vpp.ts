/**
 * The `vpp` command. Each subcommand validates its options with zod and exits 1 with a message that
 * says what to change; nothing prints a stack trace for a user's mistake.
 */
import { Command } from 'commander'
import { VppError } from '../protocol/errors.ts'
import { upCommand } from './up-command.ts'
import { keysNewCommand } from './keys-command.ts'
import { agentReadCommand, agentScanCommand } from './agent-commands.ts'
import { contractsDeployCommand } from './contracts-commands.ts'

const program = new Command('vpp').description('OpenVPP: peer-to-peer energy trading for neighbours').showHelpAfterError()

const run =
  <A extends unknown[]>(action: (...args: A) => unknown) =>
  async (...args: A) => {
    try {
      await action(...args)
    } catch (error) {
      if (error instanceof VppError) {
        console.error(`error: ${error.message}`)
        process.exit(1)
      }
      throw error
    }
  }

program
  .command('up')
  .description('run a whole neighbourhood on this machine: chain, broker, market, simulated homes with real agents, dashboard')
  .option('--homes <n>', 'number of simulated homes', '10')
  .option('--interval <duration>', 'market interval, e.g. 15s or 15m', '15s')
  .option('--port <port>', 'dashboard and API port (0: any free port)', '8080')
  .option('--speed <x>', 'simulated seconds per real second for the homes', '1')
  .action(run((options: Record<string, unknown>) => upCommand(options)))

const keys = program.command('keys').description('agent signing keys')
keys
  .command('new')
  .description("create the agent's signing key (file mode 0600) and print its address")
  .option('--out <file>', 'where to write the key', 'agent.key')
  .action(run((options: { out: string }) => keysNewCommand(options)))

const agent = program.command('agent').description('the edge agent and its device tools')
agent
  .command('scan')
  .description('find unit ids and SunSpec models on a Modbus link')
  .requiredOption('--modbus <url>', 'tcp://HOST:PORT or rtu:///dev/ttyUSB0?baud=9600')
  .option('--units <list>', 'unit ids to try, e.g. 1-10,100,126,200', '1-10,100,126,200,247')
  .option('--timeout <ms>', 'per-request timeout', '1000')
  .action(run((options: Record<string, unknown>) => agentScanCommand(options)))
agent
  .command('read')
  .description('read one normalized snapshot from a SunSpec device')
  .requiredOption('--modbus <url>', 'tcp://HOST:PORT or rtu:///dev/ttyUSB0?baud=9600')
  .option('--unit <n>', 'Modbus unit id', '1')
  .option('--json', 'print the snapshot as JSON')
  .action(run((options: Record<string, unknown>) => agentReadCommand(options)))

const contracts = program.command('contracts').description('settlement contracts')
contracts
  .command('deploy')
  .description('deploy EnergySettlement (and a dev stablecoin when no --token is given); prints addresses as JSON')
  .requiredOption('--rpc <url>', 'JSON-RPC URL of the chain')
  .option('--token <address>', 'stablecoin to settle in (default: deploy the dev stablecoin)')
  .option('--fee-recipient <address>', 'who receives grid fees (default: the deployer)')
  .option('--operator <address>', 'who may submit settlements (default: the deployer)')
  .option('--key-file <file>', 'deployer private key file (or set VPP_DEPLOYER_KEY)')
  .action(run((options: Record<string, unknown>) => contractsDeployCommand(options)))

await program.parseAsync()
