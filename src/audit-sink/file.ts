import { open, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { auditLine } from '../audit/audit.js';
import type { AuditSinkTarget } from '../config.js';
import type { AuditSink } from './sink.js';

type FileTarget = Extract<AuditSinkTarget, { kind: 'file' }>;

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException).code;

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 0;
    throw error;
  }
}

/** A rename or a new file is durable only once its folder is flushed too. */
async function syncFolder(file: string): Promise<void> {
  const folder = await open(path.dirname(file), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

async function appendDurably(file: string, text: string, created: boolean): Promise<void> {
  // 0600: entries name people and their addresses.
  const handle = await open(file, 'a', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (created) await syncFolder(file);
}

/** audit.jsonl → audit.jsonl.1, .1 → .2 …; the one past `keep` is overwritten by the rename before it. */
async function rotate(target: FileTarget): Promise<void> {
  for (let n = target.keep - 1; n >= 1; n -= 1) {
    await rename(`${target.path}.${n}`, `${target.path}.${n + 1}`).catch((error: unknown) => {
      if (errorCode(error) !== 'ENOENT') throw error;
    });
  }
  await rename(target.path, `${target.path}.1`);
  await syncFolder(target.path);
}

/**
 * JSON lines appended to a file and fsynced before the write counts as done. A
 * file never grows past `maxBytes` (but for one line longer than that, alone in
 * its file): it is rotated first.
 */
export function fileSink(target: FileTarget): AuditSink {
  return {
    name: `file:${target.path}`,
    async write(entries) {
      let size = await sizeOf(target.path);
      let pending = '';
      let pendingBytes = 0;
      for (const entry of entries) {
        const line = auditLine(entry);
        const bytes = Buffer.byteLength(line);
        if (size + pendingBytes + bytes > target.maxBytes && size + pendingBytes > 0) {
          if (pending) await appendDurably(target.path, pending, size === 0);
          await rotate(target);
          size = 0;
          pending = '';
          pendingBytes = 0;
        }
        pending += line;
        pendingBytes += bytes;
      }
      if (pending) await appendDurably(target.path, pending, size === 0);
    },
    async close() {},
  };
}
