/**
 * Loaded before every test file (bunfig.toml). A test's own deadline: 20 s unless it sets one.
 * Bun 1.4.5 does not read `timeout` from bunfig.toml, and its 5 s default fails correct tests
 * when CI shares a small machine; timing itself is measured in bench/, never by test deadlines.
 */
import { setDefaultTimeout } from 'bun:test'

setDefaultTimeout(20_000)
