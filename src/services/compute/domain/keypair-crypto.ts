// Key pair cryptography as Nova does it: RSA 2048 generation (OpenSSH public key, PEM private key), the MD5
// fingerprint of an SSH key blob, the SHA1 fingerprint of an x509 certificate, and WinRM x509 generation.
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApiError } from '../../../platform/errors.ts';

const run = promisify(execFile);

export interface GeneratedKey {
  publicKey: string;
  privateKey: string;
  fingerprint: string;
}

function invalid(reason: string): ApiError {
  return new ApiError(400, 'InvalidKeypair', `Keypair data is invalid: ${reason}`);
}

function sshString(buf: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(buf.length);
  return Buffer.concat([len, buf]);
}

/** An SSH mpint from unsigned big-endian bytes (a leading zero when the high bit is set). */
function mpint(bytes: Buffer): Buffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) b = b.subarray(1);
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return sshString(b);
}

function colonHex(hex: string): string {
  return hex.toLowerCase().match(/../g)!.join(':');
}

/** Reads the SSH wire strings of a key blob. */
function readStrings(blob: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  while (off < blob.length) {
    if (off + 4 > blob.length) throw new Error('truncated');
    const len = blob.readUInt32BE(off);
    off += 4;
    if (off + len > blob.length) throw new Error('truncated');
    out.push(blob.subarray(off, off + len));
    off += len;
  }
  return out;
}

const KEY_PARTS: Record<string, number> = {
  'ssh-rsa': 3,
  'ssh-dss': 5,
  'ssh-ed25519': 2,
  'ecdsa-sha2-nistp256': 3,
  'ecdsa-sha2-nistp384': 3,
  'ecdsa-sha2-nistp521': 3,
};

/** Checks an OpenSSH public key line and returns the MD5 fingerprint of its blob ("aa:bb:…"). */
export function sshFingerprint(publicKey: string): string {
  try {
    const parts = publicKey.trim().split(/\s+/);
    const type = parts[0] ?? '';
    const data = parts[1] ?? '';
    if (!(type in KEY_PARTS) || !/^[A-Za-z0-9+/]+={0,2}$/.test(data)) throw new Error('bad key');
    const blob = Buffer.from(data, 'base64');
    const fields = readStrings(blob);
    if (fields[0]?.toString('latin1') !== type || fields.length !== KEY_PARTS[type])
      throw new Error('bad key');
    if (type === 'ssh-ed25519' && fields[1]!.length !== 32) throw new Error('bad key');
    if (type === 'ssh-rsa' && fields[2]!.length < 64) throw new Error('bad key');
    // Nova decodes the second space-separated field, as given.
    const raw = Buffer.from(publicKey.split(' ')[1] ?? '', 'base64');
    return colonHex(createHash('md5').update(raw).digest('hex'));
  } catch {
    throw invalid('failed to generate fingerprint');
  }
}

/** The SHA1 fingerprint of a PEM certificate, colon-separated lowercase hex. */
export function x509Fingerprint(pem: string): string {
  try {
    const cert = new X509Certificate(pem);
    return cert.fingerprint.replaceAll(':', '').toLowerCase().match(/../g)!.join(':');
  } catch (err) {
    throw invalid(`failed to generate X509 fingerprint. Error message: ${(err as Error).message}`);
  }
}

/** A new RSA 2048 key: OpenSSH public key ("ssh-rsa AAAA… Generated-by-Nova") and PKCS#1 PEM private key. */
export function generateSshKey(): GeneratedKey {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  const blob = Buffer.concat([
    sshString(Buffer.from('ssh-rsa')),
    mpint(Buffer.from(jwk.e, 'base64url')),
    mpint(Buffer.from(jwk.n, 'base64url')),
  ]);
  const line = `ssh-rsa ${blob.toString('base64')} Generated-by-Nova`;
  return {
    publicKey: line,
    privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    fingerprint: sshFingerprint(line),
  };
}

/**
 * A WinRM client certificate for a user, as Nova's generate_winrm_x509_cert: a self-signed x509 certificate
 * (CN=user, clientAuth, UPN otherName) and, as the private key, the base64 of a password-less PKCS#12 bundle.
 * node:crypto can parse certificates but cannot issue them, so this runs the openssl binary (as Nova does);
 * arguments are passed as a list (no shell) and the files live in a private temporary directory.
 */
export async function generateX509(userId: string): Promise<GeneratedKey> {
  const dir = await mkdtemp(join(tmpdir(), 'compute-x509-'));
  try {
    const conf = join(dir, 'req.conf');
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    const p12File = join(dir, 'cert.p12');
    await writeFile(
      conf,
      'distinguished_name = req_distinguished_name\n[req_distinguished_name]\n[v3_req_client]\n' +
        `extendedKeyUsage = clientAuth\nsubjectAltName = otherName:1.3.6.1.4.1.311.20.2.3;UTF8:${userId}@localhost\n`,
      { mode: 0o600 },
    );
    await run('openssl', [
      'req',
      '-x509',
      '-nodes',
      '-days',
      '3650',
      '-config',
      conf,
      '-newkey',
      'rsa:2048',
      '-outform',
      'PEM',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-subj',
      `/CN=${userId}`,
      '-extensions',
      'v3_req_client',
    ]);
    await run('openssl', [
      'pkcs12',
      '-export',
      '-inkey',
      keyFile,
      '-in',
      certFile,
      '-out',
      p12File,
      '-password',
      'pass:',
    ]);
    const certificate = await readFile(certFile, 'utf8');
    const p12 = await readFile(p12File);
    return {
      publicKey: certificate,
      privateKey: p12.toString('base64'),
      fingerprint: x509Fingerprint(certificate),
    };
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(
      500,
      'KeypairGenerationFailed',
      `Could not generate an x509 certificate: ${(err as Error).message}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
