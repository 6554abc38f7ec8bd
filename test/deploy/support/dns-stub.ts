// Docker's embedded DNS for the test network: every compose service name answers 127.0.0.1
// (where the test runs it), at 127.0.0.11:53 like Docker's; and the names a test gives as
// NAME=ADDRESS arguments: the stack's public DNS records, for scripts run on the "host" of the
// network, and services the test runs in a network of their own (their address replaces 127.0.0.1).
// Runs inside the network namespace:
//   nsenter --net=<ns> node --import tsx test/deploy/support/dns-stub.ts [NAME=ADDRESS...]
import { startDnsServer } from '../../support/dns-server.ts';
import { SERVICE_NAMES } from './sandbox.ts';

const server = await startDnsServer({ host: '127.0.0.11', port: 53 });
const extra = process.argv.slice(2).map((arg) => {
  const [name = '', address = ''] = arg.split('=');
  return { type: 'A' as const, name, address };
});
const given = new Set(extra.map((record) => record.name));
server.setRecords([
  ...[...SERVICE_NAMES, 'coturn']
    .filter((name) => !given.has(name))
    .map((name) => ({ type: 'A' as const, name, address: '127.0.0.1' })),
  ...extra,
]);
process.stdout.write('ready\n');
const stop = () => {
  void server.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
