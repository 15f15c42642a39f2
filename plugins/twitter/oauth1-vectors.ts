/**
 * OAuth 1.0a HMAC-SHA1 test vectors (X's documentation of request signing, RFC 5849 §1.2, and two
 * X API v2 requests whose signatures were derived with two independent implementations, not official
 * values), shared by the signer's tests and the fake verifier's tests.
 */
export interface OAuth1Vector {
  name: string
  method: 'GET' | 'POST'
  url: string
  /** Raw form body, as sent. */
  formBody?: string
  consumerKey: string
  consumerSecret: string
  token: string
  tokenSecret: string
  nonce: string
  timestamp: number
  includeVersion: boolean
  realm?: string
  signature: string
  /** The signature as it appears (percent-encoded) in the header, when the source gives it. */
  headerSignature?: string
  baseString?: string
}

const X_DOC = {
  consumerKey: 'xvz1evFS4wEEPTGEFPHBog',
  consumerSecret: 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw',
  token: '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb',
  tokenSecret: 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE',
  nonce: 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg',
  timestamp: 1318622958,
  includeVersion: true,
}

const STATUS_BODY = 'status=Hello%20Ladies%20%2b%20Gentlemen%2c%20a%20signed%20OAuth%20request%21'

export const OAUTH1_VECTORS: readonly OAuth1Vector[] = [
  {
    name: 'A: X docs, POST statuses/update on api.x.com',
    ...X_DOC,
    method: 'POST',
    url: 'https://api.x.com/1.1/statuses/update.json?include_entities=true',
    formBody: STATUS_BODY,
    signature: 'Ls93hJiZbQ3akF3HF3x1Bz8/zU4=',
    baseString:
      'POST&https%3A%2F%2Fapi.x.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521',
  },
  {
    name: "A': the same request on api.twitter.com",
    ...X_DOC,
    method: 'POST',
    url: 'https://api.twitter.com/1.1/statuses/update.json?include_entities=true',
    formBody: STATUS_BODY,
    signature: 'hCtSmYh+iHYCEqBWrE7C7hYmtUk=',
  },
  {
    name: "A'': the legacy /1/ path still printed in authorizing-a-request.mdx",
    ...X_DOC,
    method: 'POST',
    url: 'https://api.twitter.com/1/statuses/update.json?include_entities=true',
    formBody: STATUS_BODY,
    signature: 'tnnArxj06cWHq44gCs1OSKk/jLY=',
  },
  {
    name: 'R: RFC 5849 §1.2 (no oauth_version, realm not signed)',
    method: 'GET',
    url: 'http://photos.example.net/photos?file=vacation.jpg&size=original',
    consumerKey: 'dpf43f3p2l4k3l03',
    consumerSecret: 'kd94hf93k423kf44',
    token: 'nnch734d00sl2jdk',
    tokenSecret: 'pfkkdhi9sl3r4s00',
    nonce: 'chapoH',
    timestamp: 137131202,
    includeVersion: false,
    realm: 'Photos',
    signature: 'MdpQcU8iPSUjWoN/UDMsK2sui9I=',
    baseString:
      'GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3DchapoH%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131202%26oauth_token%3Dnnch734d00sl2jdk%26size%3Doriginal',
  },
  {
    name: 'D1: GET /2/users/{id} with user.fields (derived)',
    ...X_DOC,
    method: 'GET',
    url: 'https://api.x.com/2/users/2244994945?user.fields=profile_image_url',
    signature: 'wRumY5MZZfSKfP75sjHCKR8dfpk=',
    headerSignature: 'wRumY5MZZfSKfP75sjHCKR8dfpk%3D',
  },
  {
    name: 'D2: GET /2/users/by/username with a comma in user.fields (derived)',
    ...X_DOC,
    method: 'GET',
    url: 'https://api.x.com/2/users/by/username/XDevelopers?user.fields=profile_image_url,protected',
    signature: 'SkLi9ewj1DwL/+9olNYGANMcJrI=',
    headerSignature: 'SkLi9ewj1DwL%2F%2B9olNYGANMcJrI%3D',
    baseString:
      'GET&https%3A%2F%2Fapi.x.com%2F2%2Fusers%2Fby%2Fusername%2FXDevelopers&oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26user.fields%3Dprofile_image_url%252Cprotected',
  },
]
