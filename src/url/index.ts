/** Public surface of the URL layer (pure: grammar, canonical keys, signatures). */
export { parseDeliveryPath, MAX_PATH_BYTES } from './parse.ts'
export { parseComponent, parseChain, MAX_COMPONENTS, type ParsedChain } from './component.ts'
export { canonicalComponent, canonicalChain } from './canonical.ts'
export { expandNamed, validateNamed, MAX_NAMED_DEPTH, MAX_EXPANDED_COMPONENTS, type NamedLookup } from './named.ts'
export { verifyDeliverySignature, signDeliveryPath, type SignOptions, type SignatureAlgorithm } from './signature.ts'
export {
  apiStringToSign, signApiParams, verifyApiSignature, responseSignature, UNSIGNED_API_FIELDS,
  type ApiParams, type ApiParamValue, type ApiSignatureAlgorithm, type ApiSignatureVersion, type VerifyApiOptions,
} from './api-signature.ts'
export type * from './types.ts'
