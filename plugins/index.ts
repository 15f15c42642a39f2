/**
 * The networks built into the binary. Imported statically so `bun build --compile` bundles them;
 * a new network is one file in this folder plus one line here.
 */
import type { Plugin } from '../src/plugin-host/types.ts'
import facebook from './facebook/index.ts'
import gravatar from './gravatar/index.ts'
import mastodon from './mastodon/index.ts'
import twitter from './twitter/index.ts'
import twitter_name from './twitter/name.ts'

export const builtinPlugins: readonly Plugin[] = [facebook, twitter, twitter_name, gravatar, mastodon]
