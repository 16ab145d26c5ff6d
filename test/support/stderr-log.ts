/**
 * Reads back what the kiosk's real loggers write (they write synchronously to stderr), for tests
 * that check a log line's count or content as a technician would see it, redaction included.
 * Set KIOSK_LOG_LEVEL before the logger is first loaded if debug lines matter.
 */
import fs from 'node:fs';
import { onTestFinished, vi } from 'vitest';

/** Starts capturing stderr lines until the test ends; returns a reader of the lines so far. */
export function captureStderrLog(): () => string[] {
  const chunks: string[] = [];
  const write = vi.spyOn(fs, 'writeSync').mockImplementation((fd: number, data: unknown) => {
    if (fd === 2) chunks.push(String(data));
    return typeof data === 'string' ? Buffer.byteLength(data) : 0;
  });
  onTestFinished(() => write.mockRestore());
  return () => chunks.join('').split('\n').filter(Boolean);
}
