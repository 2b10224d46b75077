import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

/** The repository root (tests run from dist/test/…). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const BIN = join(ROOT, 'bin', 'praas.js')
export const FIXTURE_APPS = join(ROOT, 'test', 'fixtures', 'apps')
export const EXAMPLES = join(ROOT, 'examples')

export function fixture (name: string): string {
  return join(FIXTURE_APPS, `${name}.js`)
}
