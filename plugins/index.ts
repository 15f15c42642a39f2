/**
 * The networks built into the binary. Imported statically so `bun build --compile` bundles them;
 * a new network is one file in this folder plus one line here.
 */
import type { Plugin } from '../src/plugins/types.ts'
import facebook from './facebook.ts'
import gravatar from './gravatar.ts'
import twitter from './twitter.ts'
import twitter_name from './twitter_name.ts'

export const builtinPlugins: readonly Plugin[] = [facebook, twitter, twitter_name, gravatar]
