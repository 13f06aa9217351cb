import * as oauth from 'oauth4webapi';

/**
 * A request to a server that wants DPoP nonces: the first is answered use_dpop_nonce,
 * the DPoP handle keeps the nonce it was given, and the request is sent once more, as a client library does.
 */
export async function withDpopNonce<T>(attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (oauth.isDPoPNonceError(error)) return attempt();
    throw error;
  }
}
