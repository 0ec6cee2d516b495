import 'reflect-metadata';
import { type KeyObject, X509Certificate, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/** TCG's EKU for AK certificates (tcg-kp-AIKCertificate), which Microsoft's vTPM AK certificates carry. */
const TCG_KP_AIK_CERTIFICATE = '2.23.133.8.3';
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
type Crypto = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1];
const crypto = webcrypto as unknown as Crypto;

/** A SIMULATED stand-in for Microsoft's vTPM CA, which issues the AK certificate in NV index 0x01C101D0. */
export interface SimVtpmCa {
  /** The CA certificate: give it to the KRS as `azureCvm.akCertAnchorsFile` to judge simulated AK certificates. */
  readonly certificate: X509Certificate;
  readonly pem: string;
  /** An AK certificate (DER) for `akPublicKey`, naming the VM. */
  issueAkCertificate(akPublicKey: KeyObject, vmId: string): Promise<Buffer>;
}

/**
 * A fresh SIMULATED vTPM CA (RSA-2048, SHA-256), valid for a day. Its certificates prove nothing: only a KRS
 * told to trust this CA accepts them, as with the simulated AMD roots.
 */
export async function simulatedVtpmCa(now: Date = new Date()): Promise<SimVtpmCa> {
  const keys = (await webcrypto.subtle.generateKey({ ...RSA, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const name = 'CN=SIMULATED Azure Virtual TPM CA, O=zt4ai simulator';
  const notBefore = new Date(now.getTime() - 3600_000);
  const notAfter = new Date(now.getTime() + 86_400_000);
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomBytes(8).toString('hex'),
      name,
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: RSA,
      extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
    },
    crypto,
  );
  const pem = ca.toString('pem');
  return {
    certificate: new X509Certificate(pem),
    pem,
    issueAkCertificate: async (akPublicKey, vmId) => {
      const publicKey = await webcrypto.subtle.importKey('spki', akPublicKey.export({ type: 'spki', format: 'der' }), RSA, true, ['verify']);
      const cert = await x509.X509CertificateGenerator.create(
        {
          serialNumber: randomBytes(8).toString('hex'),
          subject: `CN=${vmId}`,
          issuer: name,
          notBefore,
          notAfter,
          publicKey,
          signingKey: keys.privateKey,
          signingAlgorithm: RSA,
          extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true), new x509.ExtendedKeyUsageExtension([TCG_KP_AIK_CERTIFICATE])],
        },
        crypto,
      );
      return Buffer.from(cert.rawData);
    },
  };
}
