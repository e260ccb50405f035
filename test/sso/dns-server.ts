/**
 * A real DNS server on a loopback UDP port, for domain verification tests: answers TXT queries
 * (RFC 1035 §4.1 message format, §3.3.14 TXT RDATA) from a table the test changes while it runs;
 * NXDOMAIN for a name it has nothing for. Portcullis asks it through node:dns (config
 * `organizationConnections.dnsServers`), exactly as it asks a real resolver.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import type { AddressInfo } from 'node:net';

export interface TestDns {
  /** `host:port` for `organizationConnections.dnsServers`. */
  server: string;
  /** name (lower case, no trailing dot) → TXT records, each one or more strings. */
  txt: Map<string, string[][]>;
  /** Names asked for, in order. */
  asked: string[];
  close(): Promise<void>;
}

/** The question's name and where the question section ends. */
function question(message: Buffer): { name: string; end: number } {
  const labels: string[] = [];
  let at = 12;
  while (message[at] !== 0) {
    const length = message[at]!;
    labels.push(message.subarray(at + 1, at + 1 + length).toString('latin1'));
    at += 1 + length;
  }
  return { name: labels.join('.').toLowerCase(), end: at + 5 }; // zero label, QTYPE, QCLASS
}

function txtRdata(strings: string[]): Buffer {
  return Buffer.concat(strings.map((s) => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)])));
}

function answer(query: Buffer, records: string[][] | undefined): Buffer {
  const { end } = question(query);
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  header.writeUInt16BE(0x8180 | (records ? 0 : 3), 2); // QR, RD, RA; NXDOMAIN when nothing
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records?.length ?? 0, 6);
  const answers = (records ?? []).map((strings) => {
    const rdata = txtRdata(strings);
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc00c, 0); // the question's name
    fixed.writeUInt16BE(16, 2); // TXT
    fixed.writeUInt16BE(1, 4); // IN
    fixed.writeUInt32BE(60, 6);
    fixed.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([fixed, rdata]);
  });
  return Buffer.concat([header, query.subarray(12, end), ...answers]);
}

export async function startTestDns(): Promise<TestDns> {
  const socket = createSocket('udp4');
  const txt = new Map<string, string[][]>();
  const asked: string[] = [];
  socket.on('message', (query: Buffer, from: RemoteInfo) => {
    const { name } = question(query);
    asked.push(name);
    const records = txt.get(name);
    socket.send(answer(query, records && records.length ? records : undefined), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    server: `127.0.0.1:${(socket.address() as AddressInfo).port}`,
    txt,
    asked,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
