import { describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { compileSchemaProgram } from '../../broker/native-payload-check.ts'
import { agentPayloadSchemas } from '../../broker/payload-policy.ts'
import { telemetrySnapshot } from '../helpers/telemetry-snapshot.ts'

const harness = fileURLToPath(new URL('../../broker/native/payload-check-fuzz.c', import.meta.url))

describe('native payload check: memory safety on hostile bytes', () => {
  it('reads nothing outside a payload and does nothing undefined, over 300,000 random edits (AddressSanitizer, UBSan)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpp-payload-fuzz-'))
    try {
      const { program, keys } = compileSchemaProgram(agentPayloadSchemas.telemetry!)!
      const snapshot = {
        ...telemetrySnapshot,
        // An unknown member with every kind of value, for the skipping path.
        extra: { a: [1, 'x', true, false, null, { b: -1.5e3 }] },
      }
      writeFileSync(join(dir, 'program'), Buffer.from(program.buffer))
      writeFileSync(join(dir, 'keys'), keys)
      writeFileSync(join(dir, 'payload'), JSON.stringify({ seq: 1_763_900_000_123_456, samples: [snapshot, snapshot] }))
      const binary = join(dir, 'fuzz')
      execFileSync(process.env.CC ?? 'cc', ['-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-o', binary, harness, '-lm'], { stdio: 'pipe' })
      const out = execFileSync(binary, [join(dir, 'program'), join(dir, 'keys'), join(dir, 'payload'), '300000', String(Date.now())], { encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1' } })
      const [, runs, accepted] = /runs (\d+) accepted (\d+)/.exec(out)!.map(Number)
      expect(runs).toBe(300_000)
      // Some edits keep the payload valid (inside numbers and strings): the accepting paths ran too.
      expect(accepted).toBeGreaterThan(1000)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
