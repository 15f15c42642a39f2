/**
 * Reading a delivery request, before any I/O: parse the raw path, find the network, check the
 * signature, validate the id, expand named transformations and set `d_` aside. Pure apart from the
 * registry lookup; every failure is an HttpError (400 bad URL or id, 401 bad signature).
 */
import { deepFreeze } from '../lib/freeze.ts'
import { HttpError } from '../lib/http-error.ts'
import type { LoadedPlugin, PluginRegistry } from '../plugin-host/registry.ts'
import { derivedImageKey, foldDpr, lastDefined, withoutDefaultImage, withoutGetinfo } from '../url/chain.ts'
import { expandNamed, type NamedLookup } from '../url/named.ts'
import { parseDeliveryPath, rawPathOf } from '../url/parse.ts'
import { verifyDeliverySignature } from '../url/signature.ts'
import type { Component, DeliveryRequest } from '../url/types.ts'

/**
 * `open`: anything may be served and fetched. `eager_only`: an unsigned URL of a restricted type,
 * which may only be answered from a derivative made ahead by `explicit` with `eager` (Cloudinary's
 * rule for restricted types); it never reaches upstream and never derives.
 */
export type Access = 'open' | 'eager_only'

/** What the URL asks for, once its chain is expanded and split. */
export interface Wanted {
  delivery: DeliveryRequest
  plugin: LoadedPlugin
  access: Access
  id: string
  /**
   * The chain that makes the derivative: named transformations expanded, `d_` and `fl_getinfo`
   * removed, a `dpr_N` component of its own folded into the sized component before it.
   */
  chain: Component[]
  /** `fl_getinfo`: answer with JSON about the result instead of the image. */
  getinfo: boolean
  canonical: string
  placeholderName?: string
}

export interface RequestRules {
  cloudName: string
  apiSecret: string
  restrictedTypes: ReadonlySet<string>
  /** HEADSHOT_SIGN_TYPE: signatures cover the delivery type too. */
  signType?: boolean
  registry: PluginRegistry
  namedTransformation: NamedLookup
}

export const restrictedType = (delivery: DeliveryRequest) =>
  new HttpError(401, `Restricted delivery type ${delivery.type}`)

export function readRequest(request: Request, rules: RequestRules): Wanted {
  const parsed = parseDeliveryPath(rawPathOf(request.url), { cloudName: rules.cloudName })
  if (!parsed.ok) throw parsed.error
  const delivery = parsed.value
  const plugin = rules.registry.get(delivery.type)
  if (!plugin) throw new HttpError(400, `Invalid delivery type ${delivery.type}`)
  const access = authorise(delivery, rules)
  const id = plugin.parseId(delivery.publicId)
  if (!id.ok) {
    // An unsigned request for a restricted type learns nothing, not even whether the id is valid.
    if (access === 'eager_only') throw restrictedType(delivery)
    throw new HttpError(400, `Invalid public id ${delivery.publicId}: ${id.error}`)
  }
  const { chain, getinfo, canonical, placeholderName } = derivedChain(delivery.components, rules)
  return { delivery, plugin, access, id: id.value, chain, getinfo, canonical, placeholderName }
}

type DerivedChain = Pick<Wanted, 'chain' | 'getinfo' | 'canonical' | 'placeholderName'>

/**
 * What a parsed chain derives, by the parsed chain's identity: the URL parser hands out one frozen
 * array per transformation text (url/parse.ts), so a warm hit finds its chain here. Chains with `t_`
 * are derived every time, since a named transformation's definition is looked up per request.
 */
const DERIVED_CHAINS = new WeakMap<readonly Component[], DerivedChain>()

function derivedChain(components: Component[], rules: RequestRules): DerivedChain {
  const cacheable = Object.isFrozen(components) && !components.some((c) => c.named !== undefined)
  const cached = cacheable ? DERIVED_CHAINS.get(components) : undefined
  if (cached !== undefined) return cached
  const expanded = expandNamed(components, rules.namedTransformation)
  if (!expanded.ok) throw expanded.error
  const { chain: derived, getinfo } = withoutGetinfo(withoutDefaultImage(expanded.value))
  const chain = foldDpr(derived)
  const placeholderName = lastDefined(expanded.value, (c) => c.defaultImage)
  const result: DerivedChain = { chain, getinfo, canonical: derivedImageKey(chain), placeholderName }
  if (cacheable) DERIVED_CHAINS.set(components, deepFreeze(result))
  return result
}

function authorise(delivery: DeliveryRequest, rules: RequestRules): Access {
  if (!delivery.signature) return rules.restrictedTypes.has(delivery.type) ? 'eager_only' : 'open'
  const boundType = rules.signType ? delivery.type : undefined
  if (!verifyDeliverySignature(delivery.signature, rules.apiSecret, { boundType })) {
    throw new HttpError(401, 'Invalid signature')
  }
  return 'open'
}
