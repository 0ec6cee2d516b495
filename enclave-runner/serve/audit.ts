import { type FileHandle, open } from 'node:fs/promises';
import type { Logger } from 'pino';

/** A guardian decision as the audit trail keeps it: what happened and why, never the text. */
export type AuditEvent = Record<string, unknown> & { readonly kind: 'guardian'; readonly guard: 'input' | 'output' };

/** Where guardian decisions go. */
export interface AuditSink {
  write(event: AuditEvent): void;
  close(): Promise<void>;
}

/** Guardian events as JSON lines in a file (0600, appended, written in order), or into the log. */
export async function openAuditSink(file: string | null, logger: Logger): Promise<AuditSink> {
  if (file === null) {
    return { write: (event) => logger.info({ audit: event }, 'guardian decision'), close: async () => {} };
  }
  const fh: FileHandle = await open(file, 'a', 0o600);
  let chain: Promise<unknown> = Promise.resolve();
  return {
    write: (event) => {
      const line = `${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`;
      chain = chain.then(() => fh.appendFile(line)).catch((err: unknown) => logger.error({ err }, 'audit event could not be written'));
    },
    close: async () => {
      await chain;
      await fh.close();
    },
  };
}
