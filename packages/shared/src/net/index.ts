export * from './address-policy.ts';
export { createDnsClient, type DnsClient, type ResolvedAddress, type SrvRecord } from './dns.ts';
export { httpClientOptionsFromConfig } from './from-config.ts';
export { createHttpClient, DEFAULT_MAX_BYTES, DEFAULT_TIMEOUTS } from './http-client.ts';
export * from './ip-address.ts';
export { DEFAULT_MAX_JSON_DEPTH, jsonDepth, parseJsonBody } from './json.ts';
export { KeyedMutex, type Release, Semaphore } from './limiter.ts';
export {
  createRedisHolds,
  DEFAULT_HOLD_TTL_MS,
  type SharedHolds,
  type SharedHoldsOptions,
} from './shared-holds.ts';
export * from './types.ts';
