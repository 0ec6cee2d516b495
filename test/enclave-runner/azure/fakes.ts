import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toPem } from '../../../attestation/snp/certificate.js';
import type { SimulatedFirmware } from '../../../simulator/index.js';

/** A VCEK chain as the simulated firmware's extended report carries it (DER). */
export interface Chain {
  readonly vcek: Buffer;
  readonly ask: Buffer;
  readonly ark: Buffer;
  /** REPORTED_TCB, THIM's `tcbm`. */
  readonly reportedTcb: Buffer;
}

export function chainOf(firmware: SimulatedFirmware): Chain {
  const x = firmware.getExtendedReport(Buffer.alloc(64));
  return { vcek: Buffer.from(x.endorsement), ask: Buffer.from(x.intermediate), ark: Buffer.from(x.ark), reportedTcb: Buffer.from(x.report.subarray(0x180, 0x188)) };
}

export interface FakeServer {
  readonly url: string;
  /** `METHOD path?query`, with `metadata` when the Metadata header was `true`. */
  readonly requests: string[];
  close(): Promise<void>;
}

async function serve(handler: (req: IncomingMessage, res: ServerResponse, requests: string[]) => void): Promise<FakeServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => handler(req, res, requests));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/**
 * Azure IMDS's THIM endpoint: `GET /metadata/THIM/amd/certification` with `Metadata: true` answers
 * `{vcekCert, tcbm, certificateChain, cacheControl}` (PEM strings), as on an Azure CVM; 400 without the header.
 */
export function startFakeThim(chain: Chain | null, status = 200): Promise<FakeServer> {
  return serve((req, res, requests) => {
    const metadata = String(req.headers.metadata ?? '') === 'true';
    requests.push(`${req.method} ${req.url}${metadata ? ' metadata' : ''}`);
    if (req.url !== '/metadata/THIM/amd/certification') return void res.writeHead(404).end();
    if (!metadata) return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_request","error_description":"Required metadata header not specified"}');
    if (status !== 200 || !chain) return void res.writeHead(status === 200 ? 404 : status).end();
    const body = { vcekCert: toPem(chain.vcek), tcbm: Buffer.from(chain.reportedTcb).reverse().toString('hex').toUpperCase(), certificateChain: toPem(chain.ask) + toPem(chain.ark), cacheControl: '86400' };
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
  });
}

/** AMD KDS for some products: `/vcek/v1/<product>/<hwid>?…` (DER) and `/vcek/v1/<product>/cert_chain` (PEM); 404 otherwise. */
export function startFakeKds(byProduct: Readonly<Partial<Record<'Milan' | 'Genoa' | 'Turin', Chain>>>): Promise<FakeServer> {
  return serve((req, res, requests) => {
    requests.push(`${req.method} ${req.url}`);
    const m = /^\/vcek\/v1\/(Milan|Genoa|Turin)\/([^?]+)(?:\?.*)?$/.exec(req.url ?? '');
    const chain = m ? byProduct[m[1] as 'Milan' | 'Genoa' | 'Turin'] : undefined;
    if (!m || !chain) return void res.writeHead(404).end();
    if (m[2] === 'cert_chain') return void res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(toPem(chain.ask) + toPem(chain.ark));
    res.writeHead(200, { 'content-type': 'application/pkix-cert' }).end(chain.vcek);
  });
}
