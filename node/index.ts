/** The embeddable node: `startNode(options)` runs a praas node inside this process. */
import '../protocol/polyfill.js'
export { startNode, DEFAULT_LISTEN, DEFAULT_FUNCTION_TIMEOUT_MS } from './node.js'
export type { NodeOptions, PraasNode } from './node.js'
