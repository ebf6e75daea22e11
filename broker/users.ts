import { z } from 'zod'
import { topicIdSchema } from '../protocol/topic-id.ts'

/** One broker account; `username` is the agent id for agents. */
export const userSchema = z.object({
  username: topicIdSchema,
  passwordHash: z.string().startsWith('scrypt$', 'must be a scrypt hash made by `vpp broker adduser`'),
  role: z.enum(['agent', 'market', 'dashboard']),
  community: topicIdSchema,
})
export type User = z.infer<typeof userSchema>
