/**
 * The networks built into the binary. Imported statically so `bun build --compile` bundles them;
 * a new network is one folder beside this file plus one line here (or a drop-in file, see
 * docs/plugins.md).
 */
import type { Plugin } from '../src/plugin-host/types.ts'
import bluesky from './bluesky/index.ts'
import facebook from './facebook/index.ts'
import github from './github/index.ts'
import gitlab from './gitlab/index.ts'
import gravatar from './gravatar/index.ts'
import libravatar from './libravatar/index.ts'
import mastodon from './mastodon/index.ts'
import twitter from './twitter/index.ts'
import twitter_name from './twitter/name.ts'

export const builtinPlugins: readonly Plugin[] = [
  facebook,
  twitter,
  twitter_name,
  gravatar,
  github,
  gitlab,
  libravatar,
  bluesky,
  mastodon,
]
