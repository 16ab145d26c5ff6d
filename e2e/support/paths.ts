/** Paths the end-to-end harness shares, all taken from this file's place in the repository. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The host entry point the kiosk fixture starts; `npm run build` writes it. */
export const hostCli = path.join(repoRoot, 'dist/app/host/cli.js');

/** The kiosk page the host serves; `npm run build` writes it too. */
export const rendererIndex = path.join(repoRoot, 'dist/renderer/index.html');

/** Folder of real QR photographs (see its README); KIOSK_QR_CORPUS points elsewhere. */
export function qrCorpusDir(): string {
  return process.env.KIOSK_QR_CORPUS ?? path.resolve(repoRoot, '../shared/corpus/qr');
}

/** The intercom server's entry point; `npm run build` writes it. */
export const intercomCli = path.join(repoRoot, 'dist/server/cli.js');

/** The guard console the intercom server serves; `npm run build` writes it too. */
export const consoleIndex = path.join(repoRoot, 'dist/server/console/index.html');
