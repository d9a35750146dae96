// The RFB security step Nova's noVNC proxy performs: the client only ever sees the "None" security type,
// while the proxy itself negotiates with the guest's VNC server (RFC 6143, version 3.8 only).

/** One side of the negotiation: exact reads, whole writes. */
export interface RfbSide {
  read(n: number): Promise<Buffer>;
  write(data: Buffer): void;
}

export class RfbNegotiationFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RfbNegotiationFailed';
  }
}

const VERSION_LENGTH = 12;
/** Security types (RFC 6143 §7.2): Invalid and None. */
const SECURITY_INVALID = 0;
const SECURITY_NONE = 1;
/** The security types the proxy can perform with a server; only None (a console socket on the host). */
const SERVER_SCHEMES: readonly number[] = [SECURITY_NONE];

/** "RFB 003.008\n" → "3.8"; undefined when it is not a ProtocolVersion message. */
export function rfbVersion(msg: Buffer): string | undefined {
  const m = /^RFB (\d{3})\.(\d{3})\n$/.exec(msg.toString('latin1'));
  return m ? `${Number(m[1])}.${Number(m[2])}` : undefined;
}

function reasonString(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/** A failed SecurityResult with its reason, as a 3.8 client expects after it chose a type. */
function failClient(client: RfbSide, reason: string): void {
  const code = Buffer.alloc(4);
  code.writeUInt32BE(1);
  client.write(Buffer.concat([code, reasonString(reason)]));
}

/**
 * Runs the handshake up to the point where both sides agreed on security; afterwards the caller just relays
 * bytes (the server's SecurityResult included, so a server-side failure reaches the client as it is).
 */
export async function negotiateRfbSecurity(client: RfbSide, server: RfbSide): Promise<void> {
  const serverVersion = await server.read(VERSION_LENGTH);
  const sv = rfbVersion(serverVersion);
  if (sv !== '3.8')
    throw new RfbNegotiationFailed(
      `the console speaks RFB ${sv ?? JSON.stringify(serverVersion.toString('latin1'))}; the proxy needs 3.8`,
    );
  server.write(serverVersion);
  client.write(serverVersion);

  const clientVersion = await client.read(VERSION_LENGTH);
  const cv = rfbVersion(clientVersion);
  if (cv !== '3.8')
    throw new RfbNegotiationFailed(
      `the client asked for RFB ${cv ?? JSON.stringify(clientVersion.toString('latin1'))}; the proxy needs 3.8`,
    );

  const count = (await server.read(1))[0]!;
  if (count === 0) {
    // The server refused the connection: pass its reason on as it sent it.
    const lenRaw = await server.read(4);
    const reason = await server.read(lenRaw.readUInt32BE(0));
    client.write(Buffer.concat([Buffer.from([0]), lenRaw, reason]));
    throw new RfbNegotiationFailed(`the console refused the connection: ${reason.toString('utf8')}`);
  }
  const offered = [...(await server.read(count))];

  client.write(Buffer.from([1, SECURITY_NONE]));
  const chosen = (await client.read(1))[0]!;
  if (chosen !== SECURITY_NONE) {
    failClient(client, `Only the security type ${SECURITY_NONE} (None) is supported`);
    server.write(Buffer.from([SECURITY_INVALID]));
    throw new RfbNegotiationFailed(`the client chose security type ${chosen} instead of None`);
  }

  const scheme = SERVER_SCHEMES.find((s) => offered.includes(s));
  if (scheme === undefined) {
    // The client learns no more than that: what the server offered is not its business.
    failClient(client, 'Unable to negotiate security with server');
    server.write(Buffer.from([SECURITY_INVALID]));
    throw new RfbNegotiationFailed(
      `the console offers security types ${offered.join(', ')}, none of them None`,
    );
  }
  server.write(Buffer.from([scheme]));
}
