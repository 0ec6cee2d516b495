import { beforeAll, describe, expect, it } from 'vitest';
import { loadPemBundle } from '../../attestation/snp/certificate.js';
import { type SimulatedRoots, createSimulatedRoots } from '../../simulator/index.js';
import { HAS_SHARED, snpVector } from '../helpers/shared.js';

/**
 * The DER skeleton of a certificate: every TLV's depth and tag, plus the values that define shape (OIDs,
 * name strings, small integers such as versions and PSS parameters). Keys, signatures, dates and SPL values
 * are left out, so a simulated certificate must match a real one in everything but its numbers.
 */
function skeleton(der: Uint8Array, depth = 0, out: string[] = []): string[] {
  let i = 0;
  while (i < der.length) {
    const tag = der[i]!;
    let len = der[i + 1]!;
    let head = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + der[i + 2 + k]!;
      head = 2 + n;
    }
    const body = der.subarray(i + head, i + head + len);
    const shown = tag === 0x06 || tag === 0x0c || tag === 0x13 || tag === 0x16 ? `=${Buffer.from(body).toString('hex')}` : '';
    out.push(`${depth}:${tag.toString(16)}${shown}`);
    if (tag & 0x20) skeleton(body, depth + 1, out);
    i += head + len;
  }
  return out;
}

let roots: SimulatedRoots;
beforeAll(async () => {
  roots = await createSimulatedRoots({ seed: 'shape' });
});

describe.skipIf(!HAS_SHARED)('simulated certificates have the shape of real AMD ones (../shared/vectors/snp)', () => {
  it('Genoa VCEK matches oak/genoa_oc_vcek.der', () => {
    expect(skeleton(roots.Genoa.vcek(Buffer.alloc(64, 1)).der)).toEqual(skeleton(snpVector('oak/genoa_oc_vcek.der')));
  });

  it('Turin VCEK matches oak/turin_oc_vcek.der', () => {
    expect(skeleton(roots.Turin.vcek(Buffer.alloc(64, 0).fill(1, 0, 8)).der)).toEqual(skeleton(snpVector('oak/turin_oc_vcek.der')));
  });

  it('Milan VLEK (given the same cspID) matches trustee/snp/test-vlek.der', () => {
    const real = skeleton(snpVector('trustee/snp/test-vlek.der'));
    const sim = skeleton(roots.Milan.vlek({}, 'CN=cc-us-east-2.amazonaws.com').der);
    expect(sim).toEqual(real);
  });

  it('ARK, ASK and ASVK match AMD Milan certificates', () => {
    const [ask, ark] = loadPemBundle(snpVector('amd-roots/ask_ark_milan.pem').toString());
    const [asvk] = loadPemBundle(snpVector('amd-roots/ask_ark_milan_vlek.pem').toString());
    // Only the key size (RSA-4096 there, the RSA-2048 fixture here) changes lengths, which the skeleton ignores.
    expect(skeleton(roots.Milan.certificates.ark)).toEqual(skeleton(ark!.der));
    expect(skeleton(roots.Milan.certificates.ask)).toEqual(skeleton(ask!.der));
    expect(skeleton(roots.Milan.certificates.asvk)).toEqual(skeleton(asvk!.der));
  });
});
