/**
 * Certificates made for a test with the `openssl` command line: a CA, a
 * server certificate for 127.0.0.1 signed by it, a client certificate signed
 * by it (mutual TLS), and a second, unrelated CA (the "wrong CA" case).
 * EC P-256 keys: made in milliseconds.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  dir: string;
  /** Paths of PEM files. */
  caPath: string;
  otherCaPath: string;
  clientCertPath: string;
  clientKeyPath: string;
  /** PEM contents for the server. */
  serverKey: Buffer;
  serverCert: Buffer;
  ca: Buffer;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
  ]);
}

function makeSigned(dir: string, name: string, cn: string, ext: string): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${cn}`,
  ]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
}

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'stacklight-certs-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  makeSigned(
    dir,
    'server',
    '127.0.0.1',
    'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  makeSigned(dir, 'client', 'test-client', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caPath: join(dir, 'ca.pem'),
    otherCaPath: join(dir, 'other-ca.pem'),
    clientCertPath: join(dir, 'client.pem'),
    clientKeyPath: join(dir, 'client.key'),
    serverKey: readFileSync(join(dir, 'server.key')),
    serverCert: readFileSync(join(dir, 'server.pem')),
    ca: readFileSync(join(dir, 'ca.pem')),
  };
}
