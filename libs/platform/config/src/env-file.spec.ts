import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parseEnvFile, readEnvSource } from './env-file.js';

describe(parseEnvFile.name, () => {
  it('reads KEY=value lines with quotes, export and comments', () => {
    expect(
      parseEnvFile(`# settings\nexport LOG_LEVEL=debug\nNAME="two words"\nRAW='a#b'\nPORT=8080 # the port\nKEY="line1\\nline2"\n`),
    ).toEqual({ LOG_LEVEL: 'debug', NAME: 'two words', RAW: 'a#b', PORT: '8080', KEY: 'line1\nline2' });
  });

  it('names the line that is not KEY=value', () => {
    expect(() => parseEnvFile('A=1\nnot a setting\n')).toThrow('ENV_FILE line 2 is not KEY=value');
  });
});

describe(readEnvSource.name, () => {
  it('overlays the file on the process environment, re-reading it each time', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'env-file-'));
    const file = join(dir, 'platform.env');
    try {
      await writeFile(file, 'LOG_LEVEL=debug\n');
      const base = { ENV_FILE: file, LOG_LEVEL: 'info', OTHER: 'kept' };
      expect(readEnvSource(base)).toMatchObject({ LOG_LEVEL: 'debug', OTHER: 'kept' });
      await writeFile(file, 'LOG_LEVEL=warn\n');
      expect(readEnvSource(base).LOG_LEVEL).toBe('warn');
      expect(readEnvSource({ LOG_LEVEL: 'info' })).toEqual({ LOG_LEVEL: 'info' });
      expect(() => readEnvSource({ ENV_FILE: join(dir, 'missing.env') })).toThrow(/ENV_FILE: .*missing\.env: ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
