import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

// The configuration is plain JavaScript (ESLint loads it without a compiler), so it is read here
// through a specifier the type checker does not follow.
const configPath = '../eslint.config.js';
const { default: config } = (await import(configPath)) as { default: Linter.Config[] };

/** The lint block that guards the untrusted page, taken from the project's own configuration. */
function boundaryBlock(): Linter.Config {
  const block = config.find((entry) => entry.files?.flat().includes('app/renderer/**'));
  if (!block?.rules) throw new Error('eslint.config.js has no block for app/renderer/**');
  return block;
}

async function problemsIn(code: string, filePath: string): Promise<string[]> {
  const block = boundaryBlock();
  const eslint = new ESLint({
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts', '**/*.tsx'],
        languageOptions: { parser: tseslint.parser },
        plugins: block.plugins,
        rules: { 'no-restricted-imports': block.rules!['no-restricted-imports'] },
      },
    ],
  });

  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.map((message) => message.message);
}

describe('the process boundary lint', () => {
  it.each([
    ["import { readFileSync } from 'node:fs';"],
    ["import { readFileSync } from 'fs';"],
    ["import { ipcRenderer } from 'electron';"],
    ["import { SerialPort } from 'serialport';"],
    ["import HID from 'node-hid';"],
    ["import { createKiosk } from '../core/kiosk.js';"],
  ])('refuses %s in renderer code', async (line) => {
    const problems = await problemsIn(line, 'app/renderer/screens/Probe.tsx');

    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/renderer|untrusted/i);
  });

  it('lets renderer code import the contract and shared code', async () => {
    const code = [
      "import type { KioskApi } from '../contract/api.js';",
      "import { maskName } from '../common/mask.js';",
    ].join('\n');

    expect(await problemsIn(code, 'app/renderer/Probe.tsx')).toEqual([]);
  });
});
