import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  contentSecurityPolicy,
  createRendererHandler,
  registerAppScheme,
  resolveRendererFile,
  serveRenderer,
} from './protocol.js';
import { protocol, resetFakeElectron } from './testing/fake-electron.js';

vi.mock('electron', () => import('./testing/fake-electron.js'));

let workDir: string;
let rendererDir: string;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'kiosk-protocol-'));
  rendererDir = join(workDir, 'renderer');
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>kiosk</title>');
  writeFileSync(join(rendererDir, 'assets', 'decoder.wasm'), Buffer.from([0, 97, 115, 109]));
  writeFileSync(join(workDir, 'secret.txt'), 'store key');
});

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

beforeEach(() => resetFakeElectron());

describe('resolving renderer files', () => {
  it('maps the root and nested paths into the renderer folder', () => {
    expect(resolveRendererFile(rendererDir, 'app://kiosk/')).toBe(join(rendererDir, 'index.html'));
    expect(resolveRendererFile(rendererDir, 'app://kiosk/assets/decoder.wasm?v=1')).toBe(
      join(rendererDir, 'assets', 'decoder.wasm'),
    );
  });

  it('refuses percent-encoded traversal out of the renderer folder', () => {
    const attempts = [
      'app://kiosk/assets/%2E%2E%2F%2E%2E%2Fsecret.txt',
      'app://kiosk/assets/..%2f..%2fsecret.txt',
      'app://kiosk/..%2fsecret.txt',
      'app://kiosk/..%5csecret.txt',
      'app://kiosk/index.html%00.png',
      'app://kiosk/%E0%A4%A',
    ];

    for (const url of attempts) expect(resolveRendererFile(rendererDir, url), url).toBeNull();
  });

  it('keeps literal and encoded dot segments inside the folder, because the URL parser folds them', () => {
    expect(resolveRendererFile(rendererDir, 'app://kiosk/../../secret.txt')).toBe(
      join(rendererDir, 'secret.txt'),
    );
    expect(resolveRendererFile(rendererDir, 'app://kiosk/%2e%2e/secret.txt')).toBe(
      join(rendererDir, 'secret.txt'),
    );
  });

  it('refuses other hosts and other schemes', () => {
    expect(resolveRendererFile(rendererDir, 'app://other/index.html')).toBeNull();
    expect(resolveRendererFile(rendererDir, 'file:///index.html')).toBeNull();
    expect(resolveRendererFile(rendererDir, 'not a url')).toBeNull();
  });
});

describe('serving the renderer', () => {
  it('serves a file with its content type and the strict content security policy', async () => {
    const handler = createRendererHandler(rendererDir);

    const response = await handler(new Request('app://kiosk/index.html'));

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toBe(contentSecurityPolicy);
    expect(await response.text()).toContain('<title>kiosk</title>');
  });

  it('serves WebAssembly as application/wasm so it can be compiled while streaming', async () => {
    const response = await createRendererHandler(rendererDir)(
      new Request('app://kiosk/assets/decoder.wasm'),
    );

    expect(response.headers.get('content-type')).toBe('application/wasm');
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(new Uint8Array([0, 97, 115, 109]));
  });

  it('answers traversal, missing files and writes with an error that still carries the policy', async () => {
    const handler = createRendererHandler(rendererDir);

    const traversal = await handler(new Request('app://kiosk/..%2fsecret.txt'));
    const missing = await handler(new Request('app://kiosk/nope.js'));
    const post = await handler(
      new Request('app://kiosk/index.html', { method: 'POST', body: 'x' }),
    );

    expect(traversal.status).toBe(404);
    expect(await traversal.text()).not.toContain('store key');
    expect(missing.status).toBe(404);
    expect(post.status).toBe(405);
    for (const response of [traversal, missing, post]) {
      expect(response.headers.get('content-security-policy')).toBe(contentSecurityPolicy);
    }
  });

  it('binds the handler to the app scheme', () => {
    serveRenderer(rendererDir);

    expect(protocol.handle).toHaveBeenCalledWith('app', expect.any(Function));
  });
});

describe('the content security policy', () => {
  it('allows only own-origin scripts, WebAssembly compilation and no plugins, frames or base changes', () => {
    const directives = new Map(
      contentSecurityPolicy.split('; ').map((directive) => {
        const [name = '', ...values] = directive.split(' ');
        return [name, values.join(' ')] as const;
      }),
    );

    expect(directives.get('default-src')).toBe("'self'");
    expect(directives.get('script-src')).toBe("'self' 'wasm-unsafe-eval'");
    expect(directives.get('object-src')).toBe("'none'");
    expect(directives.get('frame-ancestors')).toBe("'none'");
    expect(directives.get('base-uri')).toBe("'none'");
    expect(contentSecurityPolicy).not.toMatch(/'unsafe-inline'|'unsafe-eval'/);
  });
});

describe('scheme registration', () => {
  it('makes the app scheme a standard secure scheme so it has an origin and may use the camera', () => {
    registerAppScheme();

    expect(protocol.registerSchemesAsPrivileged).toHaveBeenCalledWith([
      expect.objectContaining({
        scheme: 'app',
        privileges: expect.objectContaining({
          standard: true,
          secure: true,
          supportFetchAPI: true,
        }) as unknown,
      }),
    ]);
  });
});
