/**
 * `vpp-agent --config agent.yaml`: the edge agent alone, as shipped to a Raspberry Pi in one bundled
 * file (`npm run build:agent` → dist/vpp-agent.mjs), without the market, broker or chain code.
 */
import { Command } from 'commander'
import { VppError } from '../protocol/errors.ts'
import { agentRunCommand } from './agent-run-command.ts'

const program = new Command('vpp-agent')
  .description("the OpenVPP edge agent for one home: reads its device, trades its energy, steers its battery")
  .requiredOption('--config <file>', 'agent.yaml')
  .action(async (options: { config: string }) => {
    try {
      await agentRunCommand(options)
    } catch (error) {
      if (error instanceof VppError) {
        console.error(`error: ${error.message}`)
        process.exit(1)
      }
      throw error
    }
  })
await program.parseAsync()
