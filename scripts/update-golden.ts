/**
 * Regenerates the golden images of test/image/golden/expected/ from the current pipeline.
 *
 *   bun run scripts/update-golden.ts            # every case
 *   bun run scripts/update-golden.ts a_90 r_max # only these cases (by name)
 *
 * (`UPDATE_GOLDEN=1 bun test test/image/golden` does the same from inside the test.)
 * A golden is a claim about what the transformation SHOULD look like: open every PNG you
 * regenerate and check it against docs/compatibility.md (Crop modes, Gravity, Effects) before
 * committing it (CONTRIBUTING.md, Adding a golden image).
 * The script refuses to write a golden whose size differs from the case's hand-computed size.
 */
import { readdirSync, statSync } from 'node:fs'
import { GOLDEN_CASES } from '../test/image/golden/cases.ts'
import { EXPECTED_DIR, expectedPath, renderCase, writeExpected } from '../test/image/golden/golden.ts'

const only = new Set(process.argv.slice(2))
const unknown = [...only].filter((name) => !GOLDEN_CASES.some((c) => c.name === name))
if (unknown.length > 0) {
  console.error(`unknown case(s): ${unknown.join(', ')}`)
  process.exit(2)
}

let total = 0
let failed = 0
for (const c of GOLDEN_CASES) {
  if (only.size > 0 && !only.has(c.name)) continue
  const out = await renderCase(c)
  if (out.width !== c.size[0] || out.height !== c.size[1]) {
    console.error(
      `✗ ${c.name}: ${c.chain} gave ${out.width}×${out.height}, the semantics say ${c.size[0]}×${c.size[1]}; not written`,
    )
    failed++
    continue
  }
  writeExpected(c, out.png)
  const bytes = statSync(expectedPath(c)).size
  total += bytes
  console.log(
    `✓ ${c.name.padEnd(30)} ${`${out.width}×${out.height}`.padEnd(8)} ${String(bytes).padStart(6)} B  ${c.chain}  — look for: ${c.look}`,
  )
}
console.log(`${total} bytes written`)
const stale = readdirSync(EXPECTED_DIR).filter(
  (f) => f.endsWith('.png') && !GOLDEN_CASES.some((c) => `${c.name}.png` === f),
)
if (stale.length > 0) console.error(`stale goldens (no case any more, delete them): ${stale.join(', ')}`)
if (failed > 0) process.exit(1)
