import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_SEEDS, loadConfig, roomCapFor } from './index.ts';

function configError(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('loadConfig', () => {
  it('runs with nothing set: the embedded default', () => {
    const config = loadConfig({});
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.serverName).toBeUndefined();
    expect(config.seeds).toEqual([...DEFAULT_SEEDS]);
    expect(config.dnsServers).toBeUndefined();
    expect(config.allowNetworks).toEqual([]);
    expect(config.http).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(config.federation).toBeUndefined();
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', ATLAS_SEEDS: '', PORT: '' }).http.port).toBe(8080);
  });

  it('reads the network settings the resolver and HTTP client use', () => {
    const config = loadConfig({
      ATLAS_SERVER_NAME: 'Directory.Example.org',
      ATLAS_SEEDS: 'a.example, b.example:8448 ,[::1]:8448',
      ATLAS_DNS_SERVERS: '127.0.0.1:5353,[::1]:53,10.0.0.1',
      ATLAS_ALLOW_NETWORKS: '127.0.0.0/8, ::1/128',
      ATLAS_CA_FILE: '/etc/atlas/ca.pem',
    });
    expect(config.serverName).toBe('directory.example.org');
    expect(config.seeds).toEqual(['a.example', 'b.example:8448', '[::1]:8448']);
    expect(config.dnsServers).toEqual([
      { host: '127.0.0.1', port: 5353 },
      { host: '::1', port: 53 },
      { host: '10.0.0.1', port: 53 },
    ]);
    expect(config.allowNetworks).toEqual(['127.0.0.0/8', '::1/128']);
    expect(config.caFile).toBe('/etc/atlas/ca.pem');
  });

  it('names the variable of every bad value', () => {
    const cases: [Record<string, string>, string][] = [
      [{ ATLAS_SERVER_NAME: 'not a name' }, 'ATLAS_SERVER_NAME'],
      [{ ATLAS_SEEDS: 'good.example,bad name' }, 'ATLAS_SEEDS'],
      [{ ATLAS_DNS_SERVERS: 'dns.example:53' }, 'ATLAS_DNS_SERVERS'],
      [{ ATLAS_DNS_SERVERS: '127.0.0.1:0' }, 'ATLAS_DNS_SERVERS'],
      [{ ATLAS_DNS_SERVERS: '127.0.0.1:70000' }, 'ATLAS_DNS_SERVERS'],
      [{ ATLAS_ALLOW_NETWORKS: '127.0.0.1' }, 'ATLAS_ALLOW_NETWORKS'],
      [{ ATLAS_ALLOW_NETWORKS: '10.0.0.0/40' }, 'ATLAS_ALLOW_NETWORKS'],
      [{ PORT: 'eighty' }, 'PORT'],
      [{ PORT: '70000' }, 'PORT'],
      [{ DATABASE_URL: 'mysql://localhost/atlas' }, 'DATABASE_URL'],
      [{ REDIS_URL: 'not a url' }, 'REDIS_URL'],
      [{ ATLAS_PAGE_LIMIT: '0' }, 'ATLAS_PAGE_LIMIT'],
      [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
      [{ MEILI_KEY: 'secret' }, 'MEILI_KEY'],
      [{ ATLAS_TLS_CERT_FILE: '/cert.pem' }, 'ATLAS_TLS_CERT_FILE'],
      [{ ATLAS_HOMESERVER_URL: 'https://hs.example' }, 'ATLAS_HOMESERVER_URL'],
    ];
    for (const [env, variable] of cases) {
      const message = configError(env);
      expect(message, JSON.stringify(env)).toContain(variable);
    }
  });

  it('quotes the offending item of a list', () => {
    expect(configError({ ATLAS_SEEDS: 'good.example,bad name' })).toContain('"bad name"');
    expect(configError({ ATLAS_DNS_SERVERS: '127.0.0.1,dns.example' })).toContain('"dns.example"');
  });

  it('reports every bad variable at once', () => {
    const message = configError({ PORT: 'x', ATLAS_SERVER_NAME: 'bad name', ATLAS_ALLOW_NETWORKS: 'nope' });
    expect(message).toContain('PORT');
    expect(message).toContain('ATLAS_SERVER_NAME');
    expect(message).toContain('ATLAS_ALLOW_NETWORKS');
  });

  it('caps directories at 50,000 rooms unless the operator vouches for the server', () => {
    const defaults = loadConfig({}).directory;
    expect(defaults.roomCap).toBe(50_000);
    expect(defaults.followUpMs).toBe(300_000);
    expect(roomCapFor(defaults, 'matrix.org')).toBe(50_000);
    const policy = loadConfig({
      ATLAS_DIRECTORY_ROOM_CAP: '1000',
      ATLAS_VOUCHED_SERVERS: 'Matrix.org, big.example:8448=120000',
      ATLAS_FOLLOW_UP_SECONDS: '20',
    }).directory;
    expect(roomCapFor(policy, 'matrix.org')).toBe(250_000);
    expect(roomCapFor(policy, 'big.example:8448')).toBe(120_000);
    expect(roomCapFor(policy, 'other.example')).toBe(1000);
    expect(policy.followUpMs).toBe(20_000);
  });

  it('refuses a directory policy that cannot hold, naming the variable and the fix', () => {
    expect(configError({ ATLAS_VOUCHED_SERVERS: 'matrix.org=lots' })).toContain(
      'ATLAS_VOUCHED_SERVERS: "matrix.org=lots" is not a server name with an optional room cap',
    );
    expect(configError({ ATLAS_VOUCHED_SERVERS: 'bad name' })).toContain('ATLAS_VOUCHED_SERVERS');
    expect(configError({ ATLAS_DIRECTORY_ROOM_CAP: '0' })).toContain('ATLAS_DIRECTORY_ROOM_CAP');
    expect(configError({ ATLAS_FOLLOW_UP_SECONDS: '-1' })).toContain('ATLAS_FOLLOW_UP_SECONDS');
    expect(configError({ ATLAS_DIRECTORY_ROOM_CAP: '300000' })).toContain('raise ATLAS_CRAWL_MAX_ROOMS');
    expect(configError({ ATLAS_VOUCHED_SERVERS: 'matrix.org=400000' })).toContain(
      'ATLAS_VOUCHED_SERVERS: matrix.org=400000 is more than ATLAS_CRAWL_MAX_ROOMS',
    );
  });

  it('serves avatars from a capped cache under the data folder unless ATLAS_MEDIA=off', () => {
    const config = loadConfig({ ATLAS_DATA_DIR: '/var/lib/atlas' });
    expect(config.media).toEqual({ cacheDir: '/var/lib/atlas/media', cacheBytes: 1024 * 1024 * 1024 });
    expect(loadConfig({ ATLAS_MEDIA_CACHE_MB: '64' }).media?.cacheBytes).toBe(64 * 1024 * 1024);
    expect(loadConfig({ ATLAS_MEDIA: 'off' }).media).toBeUndefined();
    expect(configError({ ATLAS_MEDIA: 'maybe' })).toContain('ATLAS_MEDIA');
    expect(configError({ ATLAS_MEDIA_CACHE_MB: '0' })).toContain('ATLAS_MEDIA_CACHE_MB');
    expect(configError({ ATLAS_MEDIA_CACHE_MB: 'lots' })).toContain('ATLAS_MEDIA_CACHE_MB');
  });
});
