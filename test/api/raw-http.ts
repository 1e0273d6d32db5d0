// A raw TCP exchange with a host, for requests no HTTP client will send (broken frames, bad
// request lines) and for answers a client might drop (a 413 before the body is read).
import { connect } from 'node:net';

/** Writes `bytes` on a fresh TCP connection; resolves with all the host sent until it closed. */
export function exchange(port: number, bytes: Buffer | string, opts: { afterHandshake?: Buffer } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    let upgraded = false;
    s.on('data', (d: Buffer) => {
      got.push(d);
      if (opts.afterHandshake && !upgraded && Buffer.concat(got).includes('\r\n\r\n')) {
        upgraded = true;
        s.write(opts.afterHandshake);
      }
    });
    s.on('error', () => undefined); // a reset after the host's answer still ends the exchange
    s.on('close', () => resolve(Buffer.concat(got).toString('latin1')));
    s.setTimeout(20_000, () => {
      s.destroy();
      reject(new Error('the host neither answered nor closed the connection'));
    });
    s.write(bytes);
  });
}

