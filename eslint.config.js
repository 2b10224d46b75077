// `npm run lint`: neostandard (standard style, as js-libp2p's `aegir lint`) with its TypeScript
// support, which is typescript-eslint's parser and rules (pinned in package.json beside it), over
// the sources, tests, benches, examples and scripts; not the generated codecs (protocol/pb/*.ts).
import neostandard, { resolveIgnoresFromGitignore } from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: [...resolveIgnoresFromGitignore(), 'dist/**', 'protocol/pb/**'] }),
  {
    rules: {
      // `void promise` as a statement marks a promise left to run on purpose (as in js-libp2p)
      'no-void': ['error', { allowAsStatement: true }],
      // a `let` assigned once, after the closures that read it are made (node.ts wires its services so)
      'prefer-const': ['error', { destructuring: 'all', ignoreReadBeforeAssign: true }]
    }
  }
]
