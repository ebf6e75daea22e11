/**
 * The `vpp` command. Each subcommand validates its options with zod and exits 1 with a message that
 * says what to change; nothing prints a stack trace for a user's mistake.
 */
import { Command } from 'commander'
import { VppError } from '../protocol/errors.ts'
import { upCommand } from './up-command.ts'
import { keysNewCommand } from './keys-command.ts'
import { agentReadCommand, agentScanCommand } from './agent-commands.ts'
import { agentRunCommand } from './agent-run-command.ts'
import { contractsDeployCommand } from './contracts-commands.ts'
import { brokerAddUserCommand, brokerRunCommand } from './broker-commands.ts'
import { marketCommand } from './market-command.ts'
import { simulateCommand } from './simulate-command.ts'
import { walletBalanceCommand, walletDepositCommand, walletWithdrawCommand } from './wallet-commands.ts'
import { agentJoinCommand, membersAddCommand, membersAnswerCommand, membersListCommand, membersPendingCommand, membersRemoveCommand, membersRotateKeyCommand } from './members-commands.ts'

const program = new Command('vpp').description('OpenVPP: peer-to-peer energy trading for neighbours').showHelpAfterError().enablePositionalOptions()

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

program
  .command('simulate')
  .description('a headless study of a scenario through the real market engine: report.html, kpis.json, timeseries.csv')
  .argument('<scenario>', 'scenario file, e.g. simulator/scenarios/suburb-200.yaml')
  .option('--days <n>', 'days to simulate from the scenario start', '365')
  .option('--out <dir>', 'where to write the report (default: study-SCENARIO)')
  .option('--compare', 'run no trading, P2P and P2P with battery strategy on the same weather and load')
  .action(run((scenario: string, options: Record<string, unknown>) => simulateCommand(scenario, options)))

const keys = program.command('keys').description('agent signing keys')
keys
  .command('new')
  .description("create the agent's signing key (file mode 0600) and print its address")
  .option('--out <file>', 'where to write the key', 'agent.key')
  .action(run((options: { out: string }) => keysNewCommand(options)))

const agent = program
  .command('agent')
  .description("run a home's edge agent from agent.yaml, or use its device tools (scan, read)")
  .enablePositionalOptions()
  .option('--config <file>', 'agent.yaml: the home, its device, broker and key')
  .action(run((options: { config?: string }) => agentRunCommand(options)))
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
  .option('--unit <n>', 'Modbus unit id (default 1, or the profile\'s)')
  .option('--profile <name>', 'vendor profile: huawei-sun2000, sungrow-sh, victron-gx, growatt-hybrid, sma, solaredge-hybrid, fronius-gen24')
  .option('--json', 'print the snapshot as JSON')
  .action(run((options: Record<string, unknown>) => agentReadCommand(options)))
agent
  .command('join')
  .description("ask to join a community, signed with the home's key; the broker password is made here and only its hash is sent")
  .requiredOption('--market <url>', 'the market, e.g. https://market.sunny-street.example')
  .requiredOption('--agent <id>', 'the agent id to join as (its MQTT user name)')
  .requiredOption('--key-file <file>', "the home's signing key (vpp keys new)")
  .option('--node <id>', 'the grid node (transformer) the home is on, as the operator named it')
  .option('--password-file <file>', 'where the broker password is kept (made if absent; default KEYFILE.mqtt-password)')
  .option('--wait', "wait for the operator's answer")
  .option('--wait-seconds <n>', 'how long to wait', '3600')
  .action(run((options: Record<string, unknown>) => agentJoinCommand(options)))

const wallet = program.command('wallet').description("the home's money in settlement escrow, with the agent's own key (agent.yaml)")
const walletCommand = (name: string, description: string) =>
  wallet
    .command(name)
    .description(description)
    .option('--config <file>', "the home's agent.yaml (its key; chain.rpcUrl and chain.settlement; marketUrl)")
    .option('--rpc <url>', 'chain RPC URL (instead of agent.yaml chain.rpcUrl)')
    .option('--settlement <address>', 'settlement contract (instead of agent.yaml chain.settlement)')
    .option('--json', 'print JSON')
walletCommand('balance', 'escrow balance, what open orders and unsettled trades hold, a pending withdrawal, and the wallet').action(
  run((options: Record<string, unknown>) => walletBalanceCommand(options)),
)
walletCommand('deposit', 'move stablecoin from the wallet into escrow: one permit signature, one transaction')
  .argument('<amount>', "in the token's units, e.g. 25.00")
  .action(run((amount: string, options: Record<string, unknown>) => walletDepositCommand(amount, options)))
walletCommand('withdraw', 'request a withdrawal of AMOUNT, or take a requested one with --complete once its delay has passed')
  .argument('[amount]', "in the token's units, e.g. 10.00")
  .option('--complete', 'take the requested withdrawal')
  .action(run((amount: string | undefined, options: Record<string, unknown>) => walletWithdrawCommand(amount, options)))

const members = program.command('members').description("the community's members: list, add, remove, re-key, and answer join requests (operator)")
const operatorCommand = (name: string, description: string) =>
  members
    .command(name)
    .description(description)
    .requiredOption('--market <url>', 'the market, e.g. http://127.0.0.1:8080')
    .option('--token-file <file>', 'the operator token (market.yaml operatorTokenFile); or set VPP_OPERATOR_TOKEN')
members
  .command('list')
  .description('every member, active or removed')
  .requiredOption('--market <url>', 'the market, e.g. http://127.0.0.1:8080')
  .action(run((options: Record<string, unknown>) => membersListCommand(options)))
operatorCommand('add', 'add a home; prints the broker password made for it, once')
  .requiredOption('--agent <id>', 'its agent id (MQTT user name)')
  .requiredOption('--address <0x…>', 'the address its orders are signed with')
  .option('--node <id>', 'its grid node (default: the root)')
  .option('--password-stdin', 'take its broker password from stdin instead of making one')
  .action(run((options: Record<string, unknown>) => membersAddCommand(options)))
operatorCommand('remove', 'remove a home: disconnected at once, its open orders cancelled; its escrow stays its own')
  .requiredOption('--agent <id>', 'its agent id')
  .action(run((options: Record<string, unknown>) => membersRemoveCommand(options)))
operatorCommand('rotate-key', "bind a home to a new signing key; the old key's open orders are cancelled")
  .requiredOption('--agent <id>', 'its agent id')
  .requiredOption('--address <0x…>', 'the new address')
  .action(run((options: Record<string, unknown>) => membersRotateKeyCommand(options)))
operatorCommand('pending', 'join requests waiting for an answer').action(run((options: Record<string, unknown>) => membersPendingCommand(options)))
operatorCommand('approve', 'approve a join request: the home may log in and trade at once')
  .argument('<agent>', 'the agent id that asked to join')
  .action(run((id: string, options: Record<string, unknown>) => membersAnswerCommand('approve', id, options)))
operatorCommand('refuse', 'refuse a join request')
  .argument('<agent>', 'the agent id that asked to join')
  .option('--reason <text>', 'why, for the log')
  .action(run((id: string, options: Record<string, unknown>) => membersAnswerCommand('refuse', id, options)))

const broker = program
  .command('broker')
  .description('run the MQTT broker alone: per-agent auth, ACLs, TLS/WebSocket, Redis cluster, InfluxDB telemetry')
  // Options after `adduser` are adduser's own, though both take --users.
  .enablePositionalOptions()
  .option('--config <file>', 'broker.yaml (flags below override it)')
  .option('--users <file>', 'users file made by `vpp broker adduser`')
  .option('--host <host>', 'plain TCP listen address (default 127.0.0.1)')
  .option('--port <port>', 'plain TCP port, or "off" (default 1883)')
  .option('--redis <url>', 'cluster mode: redis://HOST:6379')
  .option('--influx <url>', 'telemetry history: http://HOST:8086/DATABASE (or VPP_INFLUX_URL)')
  .action(run((options: Record<string, unknown>) => brokerRunCommand(options)))
broker
  .command('adduser')
  .description('add a user (or change its password) in a users file; the password is read from stdin')
  .requiredOption('--users <file>', 'users file (created when missing, mode 0600)')
  .requiredOption('--community <id>', 'community the user belongs to')
  .requiredOption('--agent <id>', 'the agent id (MQTT username and client id)')
  .option('--role <role>', 'agent, market or dashboard', 'agent')
  .action(run((options: Record<string, unknown>) => brokerAddUserCommand(options)))

program
  .command('market')
  .description("run one community's market alone: order intake, clearing, settlement, API and dashboard")
  .requiredOption('--config <file>', 'market.yaml')
  .action(run((options: Record<string, unknown>) => marketCommand(options)))

const contracts = program.command('contracts').description('settlement contracts')
contracts
  .command('deploy')
  .description('deploy EnergySettlement (and a dev stablecoin when no --token is given); prints addresses as JSON')
  .requiredOption('--rpc <url>', 'JSON-RPC URL of the chain')
  .option('--community <name>', "the community's name as in market.yaml: the contract settles that community only (required)")
  .option('--token <address>', 'stablecoin to settle in (default: deploy the dev stablecoin)')
  .option('--fee-recipient <address>', 'who receives grid fees (default: the deployer)')
  .option('--operator <address>', 'who may submit settlements (default: the deployer)')
  .option('--guardian <address>', 'who may pause settlement and deposits, never withdrawals (default: the deployer)')
  .option('--meter-signer <address>', "who signs meter readings, e.g. the utility's meter data hub (required except on a local anvil)")
  .option('--insecure-self-reported-meter-readings', 'no meter signer: every seller signs its own readings (test chains only)')
  .option('--imbalance-price <units>', 'base units per kWh a seller pays for energy sold but not delivered (default: 400000)')
  .option('--interval <duration>', 'the market interval the contract settles, e.g. 15m (default: 15m)')
  .option('--settlement-window <duration>', 'how long after its start an interval may be settled, e.g. 24h (default: 24h)')
  .option('--withdrawal-delay <duration>', 'wait between a withdrawal request and the withdrawal; longer than the window (default: 48h)')
  .option('--key-file <file>', 'deployer private key file (or set VPP_DEPLOYER_KEY)')
  .action(run((options: Record<string, unknown>) => contractsDeployCommand(options)))

await program.parseAsync()
