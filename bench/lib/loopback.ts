/**
 * Simulated people on their own machines: while `run` goes, every new TCP connection to `port`
 * on 127.0.0.1 leaves from the next loopback address of 127.1.0.0/16 (Linux routes the whole of
 * 127.0.0.0/8 to the loopback interface), so the API sees each connection come from its own
 * client address, as it sees people who are not behind one proxy. With autocannon's
 * `reconnectRate`, each decision (a page and its form) comes from a fresh connection and address.
 *
 * Why: the public pages limit requests per client address (src/api/plugins/rate-limit.ts), with
 * no configuration to raise the limit for a load test; from one address a bench would measure
 * the limit's 429s. The load generator (autocannon) has no option for a source address, so the
 * connect call it uses (`net.connect(port, host)`) is wrapped for the duration of `run`.
 */
import net from 'node:net';

let next = 0;

/** The next address of 127.1.0.0/16 (65,534 of them, then from the start again). */
function nextAddress(): string {
  next = (next % 65_534) + 1;
  return `127.1.${next >> 8}.${next & 255}`;
}

export async function fromManyAddresses<T>(port: number, run: () => Promise<T>): Promise<T> {
  const original = net.connect;
  const wrapped = function (this: unknown, ...args: unknown[]) {
    if (Number(args[0]) === port && (args[1] === '127.0.0.1' || args[1] === 'localhost') && args.length === 2) {
      return original({ port, host: '127.0.0.1', localAddress: nextAddress() });
    }
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.connect;
  net.connect = wrapped;
  try {
    return await run();
  } finally {
    net.connect = original;
  }
}
