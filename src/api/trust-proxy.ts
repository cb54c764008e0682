/**
 * `TRUST_PROXY` as Fastify's `trustProxy`: which reverse proxies' `X-Forwarded-For` the API
 * believes when it takes `request.ip` (the client address of the rate limits and the logs).
 *
 * - off (`false`): the direct peer is the client;
 * - a list of proxy addresses and CIDR ranges: Fastify's own form, the safest;
 * - a hop count `n`: the `n` nearest hops are believed, provided the direct peer is on a
 *   loopback, link-local or private address (where reverse proxies sit). Fastify 5.12 no
 *   longer accepts a bare number (it trusted whatever a direct client wrote); this keeps the
 *   count and checks the immediate peer, so a client reaching the API from a public address
 *   is taken at that address, whatever it writes in the header;
 * - `true`: every hop is believed (a client that reaches the API directly chooses its address).
 */
import { BlockList, isIPv4 } from 'node:net';
import type { Config } from '../config.js';

/** Where a reverse proxy in front of the API sits: proxy-addr's `loopback`, `linklocal` and `uniquelocal`. */
const proxyNetworks = new BlockList();
for (const [network, prefix] of [['127.0.0.0', 8], ['169.254.0.0', 16], ['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16]] as const) {
  proxyNetworks.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [['::1', 128], ['fe80::', 10], ['fc00::', 7]] as const) {
  proxyNetworks.addSubnet(network, prefix, 'ipv6');
}

/** True for a loopback, link-local or private address (an IPv4-mapped IPv6 address by its IPv4 part). */
export function isProxyNetworkAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const plain = mapped ?? address;
  try {
    return proxyNetworks.check(plain, isIPv4(plain) ? 'ipv4' : 'ipv6');
  } catch {
    return false;
  }
}

export type TrustProxyOption = boolean | string[] | ((address: string, hop: number) => boolean);

export function trustProxyOption(setting: Config['TRUST_PROXY']): TrustProxyOption {
  if (typeof setting === 'boolean') return setting;
  if (typeof setting === 'number') {
    const hops = setting;
    return (address, hop) => hop < hops && (hop > 0 || isProxyNetworkAddress(address));
  }
  return [...setting];
}
