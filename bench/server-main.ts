// Lifetime of a benchmark server process: it tells the harness where it listens with one line on
// stdout, and it goes away with the harness, which holds its stdin open for that purpose.

const STOP_TIMEOUT_MS = 5000

export function announce (address: string): void {
  process.stdout.write(address + '\n')
}

/** Stops (running `onExit` first) on SIGTERM/SIGINT or when the harness goes away. */
export function exitWithParent (onExit: () => Promise<void> | void = () => {}): void {
  const stop = (): void => {
    Promise.race([Promise.resolve(onExit()), new Promise(resolve => setTimeout(resolve, STOP_TIMEOUT_MS).unref())])
      .finally(() => process.exit(0))
  }
  process.stdin.on('end', stop).on('error', stop).resume()
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}
