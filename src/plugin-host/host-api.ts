/**
 * What a drop-in plugin file receives: `export default (host) => plugin`. Everything a plugin needs
 * from the host comes through this object, because a file loaded at run time by the compiled binary
 * cannot import bare packages (`@sinclair/typebox`) nor share state with host sources by path.
 * `headshot-plugin.d.ts` (src/plugin-host/authoring.ts) declares the same surface for authors.
 */
import { Type } from '@sinclair/typebox'
import { definePlugin, err, ok, UpstreamError } from './types.ts'
import { FetchError, isRecord, jsonBody, toUpstreamError } from './upstream.ts'

export const pluginHost = {
  definePlugin,
  ok,
  err,
  UpstreamError,
  FetchError,
  Type,
  toUpstreamError,
  jsonBody,
  isRecord,
} as const

export type PluginHost = typeof pluginHost
