import { z } from 'zod'

/** Community and agent ids are MQTT topic levels: no wildcards, separators or empty strings. */
export const TOPIC_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/

/** A community or agent id, as every config file, command and message takes it. */
export const topicIdSchema = z.string().regex(TOPIC_ID_PATTERN, 'letters, digits, "_", "." or "-" (no spaces or slashes), at most 64, starting with a letter or digit')
