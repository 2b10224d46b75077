import { Option } from 'commander'

/**
 * Option builders shared by the commands. Each carries what the config file and the
 * environment need to know about it: options made by `listOption` take several values (repeated
 * flags, a JSON array in the config file, a comma-separated environment variable), and options
 * made by `pathOption` name a file or folder (relative paths in a config file are taken from the
 * file's own folder).
 */
// Marks on the Option itself, by registered symbols: the options may be made by the bundled CLI
// (dist/cli) and read by the compiled modules of `praas node`, two copies of this module.
const LIST = Symbol.for('praas.cli.listOption')
const PATH = Symbol.for('praas.cli.pathOption')
type Marked = Option & { [LIST]?: true, [PATH]?: true }

export function isListOption (option: Option): boolean {
  return (option as Marked)[LIST] === true
}

export function isPathOption (option: Option): boolean {
  return (option as Marked)[PATH] === true
}

function collect (value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

/** A repeatable option; its values are split at commas too (`PRAAS_BOOTSTRAP=a,b`). */
export function listOption (flags: string, description: string): Option {
  const option: Marked = new Option(flags, description).argParser(collect)
  option[LIST] = true
  return option
}

export function pathOption (flags: string, description: string): Option {
  const option: Marked = new Option(flags, description)
  option[PATH] = true
  return option
}

/** The values of a list option, split at commas, without empty ones. */
export function listValues (values: string[] | string | undefined): string[] {
  const all = values == null ? [] : Array.isArray(values) ? values : [values]
  return all.flatMap(v => v.split(',')).map(v => v.trim()).filter(v => v !== '')
}

/** `--bootstrap MULTIADDR`, repeatable, default `$PRAAS_BOOTSTRAP` (comma separated). */
export const bootstrapOption = (): Option =>
  listOption('--bootstrap <multiaddr>', 'a node of the cluster (repeatable; default $PRAAS_BOOTSTRAP, comma separated)').env('PRAAS_BOOTSTRAP')

export const swarmKeyOption = (): Option => pathOption('--swarm-key <file>', 'the cluster\'s pnet swarm key')

/** `--token T`, default `$PRAAS_TOKEN`, else the file ./.praas/admin.token when it exists (see client-commands.ts). */
export const tokenOption = (): Option => new Option('--token <token>', 'what this client may do (default $PRAAS_TOKEN, else ./.praas/admin.token)').env('PRAAS_TOKEN')

/** The environment variable of a node option: `--data-dir` is `PRAAS_DATA_DIR`. */
export function envName (option: Option): string {
  return `PRAAS_${option.attributeName().replace(/[A-Z]/g, c => `_${c}`).toUpperCase()}`
}
