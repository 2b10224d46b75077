/**
 * What a function receives as its second argument: the paper's process API.
 *
 * ```ts
 * export async function incr (input: Uint8Array, ctx: Context) {
 *   const n = Number(new TextDecoder().decode((await ctx.state.get('n')) ?? new Uint8Array())) || 0
 *   await ctx.state.put('n', String(n + 1))
 *   return String(n + 1)
 * }
 * ```
 * Every call may reject with a PraasError carrying one of the stable codes.
 */
export interface Context {
  /** This process's id. */
  readonly pid: string
  /** The app this process runs. */
  readonly app: string
  /** The process's durable key-value state; each operation is atomic. */
  readonly state: StateApi
  /** Invokes a function of any process (of this one too) and returns its result. */
  invoke(pid: string, fn: string, data?: Uint8Array | string): Promise<Uint8Array>
  /** Puts a message into process `pid`'s mailbox under `key`. */
  send(pid: string, key: string, data: Uint8Array | string): Promise<void>
  /** Takes the oldest message under `key` sent by `from` (a pid, or '*' for any sender). */
  recv(from: string, key: string, options?: { timeoutMs?: number }): Promise<{ from: string, data: Uint8Array }>
}

export interface StateApi {
  get(key: string): Promise<Uint8Array | undefined>
  put(key: string, value: Uint8Array | string): Promise<void>
  delete(key: string): Promise<void>
  keys(): Promise<string[]>
}
