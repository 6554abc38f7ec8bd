export * from './address-policy.ts';
export { createDnsClient, type DnsClient, type ResolvedAddress, type SrvRecord } from './dns.ts';
export { httpClientOptionsFromConfig } from './from-config.ts';
export { createHttpClient, DEFAULT_MAX_BYTES, DEFAULT_TIMEOUTS } from './http-client.ts';
export * from './ip-address.ts';
export { DEFAULT_MAX_JSON_DEPTH, jsonDepth, parseJsonBody } from './json.ts';
export { KeyedMutex, type Release, Semaphore } from './limiter.ts';
export * from './types.ts';
