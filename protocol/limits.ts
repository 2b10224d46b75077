/** The largest invoke payload, result, message or state value: 16 MiB (SPEC.md). */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024

/** Payloads travel in chunks of at most this size, so that small calls interleave with big ones. */
export const CHUNK_BYTES = 256 * 1024

/** Room for a frame's head (pid, fn, error text) next to a full chunk. */
const FRAME_OVERHEAD_BYTES = 16 * 1024

/** The largest invoke frame a peer accepts; a longer length prefix is a protocol error. */
export const MAX_INVOKE_FRAME_BYTES = CHUNK_BYTES + FRAME_OVERHEAD_BYTES

/** The largest app module source a node accepts. */
export const MAX_APP_SOURCE_BYTES = 4 * 1024 * 1024

/** The largest control message (a deploy carries an app's source; a list carries many entries). */
export const MAX_CTL_MESSAGE_BYTES = MAX_APP_SOURCE_BYTES + 64 * 1024

/** A pid is any string of 1 to 128 characters (SPEC.md). */
export const MAX_PID_LENGTH = 128

/** Function and app names. */
export const MAX_NAME_LENGTH = 128

/** The longest error message carried on the wire. */
export const MAX_ERROR_MESSAGE_LENGTH = 4096

/** How many calls one invoke stream may have in flight before the reader pauses the stream. */
export const MAX_INFLIGHT_PER_STREAM = 1024

/** How many processes one list response may carry. */
export const MAX_LIST_ENTRIES = 100_000

/** Mailbox and state keys. */
export const MAX_KEY_LENGTH = 1024

/** Nodes named as holders of a process's older copies in one request, at most. */
export const MAX_HOLDERS = 64

/** Write batches in one replication call, at most, and the bytes one call carries before the rest waits for the next. */
export const MAX_BATCHES_PER_CALL = 4096
export const MAX_REPLICATE_CALL_BYTES = 8 * 1024 * 1024

/** Replicas that push one call's result to its caller (protocol/results.ts), at most: R - 1. */
export const MAX_REPLICAS_PUSHING = 16
