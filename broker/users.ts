import { z } from 'zod'
import { TOPIC_ID_PATTERN } from '../protocol/topics.ts'

/** One broker account; `username` is the agent id for agents. */
export const userSchema = z.object({
  username: z.string().regex(TOPIC_ID_PATTERN, 'letters, digits, "_", "." or "-", at most 64'),
  passwordHash: z.string().startsWith('scrypt$', 'must be a scrypt hash made by `vpp broker adduser`'),
  role: z.enum(['agent', 'market', 'dashboard']),
  community: z.string().regex(TOPIC_ID_PATTERN),
})
export type User = z.infer<typeof userSchema>
