import { readFile } from 'node:fs/promises'
import { dirname, isAbsolute, resolve } from 'node:path'
import { PraasError } from '../../protocol/errors.js'
import { isListOption, isPathOption, listValues } from './options.js'
import type { Command, Option } from 'commander'

/** The longest config file read, in bytes: options, not data. */
const MAX_CONFIG_BYTES = 1024 * 1024

/**
 * The options of `command` after its `--config FILE` (JSON, keys are the long option names in
 * camelCase) is merged in: a flag beats the environment, which beats the file, which beats the
 * defaults. Relative paths in the file are taken from the file's folder, so that a unit file
 * or a script may name the file from anywhere. A key that names no option, or a value of the
 * wrong type, is a BAD_REQUEST naming the key.
 */
export async function resolveOptions (command: Command): Promise<Record<string, unknown>> {
  const opts = command.opts()
  const file = opts.config as string | undefined
  if (file != null) {
    const config = await readConfig(file)
    const byKey = new Map(command.options.map(o => [o.attributeName(), o]))
    for (const [key, value] of Object.entries(config)) {
      const option = byKey.get(key)
      if (option == null || key === 'config') {
        const keys = [...byKey.keys()].filter(k => k !== 'config').join(', ')
        throw new PraasError('BAD_REQUEST', `${file}: unknown option "${key}" (keys are the long option names in camelCase: ${keys})`)
      }
      const source = command.getOptionValueSource(key)
      if (source === 'cli' || source === 'env') continue
      command.setOptionValueWithSource(key, fromConfig(option, key, value, dirname(resolve(file))), 'config')
    }
  }
  const resolved = command.opts()
  for (const option of command.options) {
    const key = option.attributeName()
    if (isListOption(option) && resolved[key] != null) resolved[key] = listValues(resolved[key])
  }
  return resolved
}

async function readConfig (file: string): Promise<Record<string, unknown>> {
  let text: string
  try {
    const bytes = await readFile(file)
    if (bytes.byteLength > MAX_CONFIG_BYTES) throw new PraasError('BAD_REQUEST', `${file}: a config file holds at most ${MAX_CONFIG_BYTES} bytes`)
    text = bytes.toString('utf8')
  } catch (err) {
    if (err instanceof PraasError) throw err
    throw new PraasError('BAD_REQUEST', `cannot read config file ${file}: ${(err as Error).message}`)
  }
  let config: unknown
  try {
    config = JSON.parse(text)
  } catch (err) {
    throw new PraasError('BAD_REQUEST', `${file} is not JSON: ${(err as Error).message}`)
  }
  if (config == null || typeof config !== 'object' || Array.isArray(config)) {
    throw new PraasError('BAD_REQUEST', `${file}: a config file holds one JSON object`)
  }
  return config as Record<string, unknown>
}

/** A value of the config file as the option would have it from the command line. */
function fromConfig (option: Option, key: string, value: unknown, base: string): unknown {
  const scalar = (v: unknown): string => {
    if (typeof v === 'number' && Number.isFinite(v)) return String(v)
    if (typeof v !== 'string') {
      throw new PraasError('BAD_REQUEST', `config option "${key}" takes ${isListOption(option) ? 'strings' : 'a string or a number'}`)
    }
    if (option.argChoices != null && !option.argChoices.includes(v)) {
      throw new PraasError('BAD_REQUEST', `config option "${key}" takes one of ${option.argChoices.join(', ')}`)
    }
    return isPathOption(option) && !isAbsolute(v) ? resolve(base, v) : v
  }
  if (isListOption(option)) return (Array.isArray(value) ? value : [value]).map(scalar)
  return scalar(value)
}
