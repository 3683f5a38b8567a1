import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigFileError, namespaceOfFile, parseNamespaceFile, readConfigDirectory, serializeNamespaceFile } from './namespace-file.js';

function problemOf(text: string): Pick<ConfigFileError, 'file' | 'path' | 'line' | 'problem'> {
  try {
    parseNamespaceFile('acme/app.yaml', text);
  } catch (error) {
    if (!(error instanceof ConfigFileError)) throw error;
    return { file: error.file, path: error.path, line: error.line, problem: error.problem };
  }
  throw new Error('parsed');
}

describe(parseNamespaceFile.name, () => {
  it('reads values by key and environment, YAML or JSON', () => {
    const yaml = 'keys:\n  model:\n    base: {name: small}\n    production: {name: large}\n  limit:\n    base: 3\n';
    expect(parseNamespaceFile('a.yaml', yaml)).toEqual({ model: { base: { name: 'small' }, production: { name: 'large' } }, limit: { base: 3 } });
    expect(parseNamespaceFile('a.json', '{"keys": {"limit": {"base": null}}}')).toEqual({ limit: { base: null } });
  });

  it('round-trips what it writes', () => {
    const keys = { model: { base: { name: '007', on: 'yes', list: [1, 'two'] } }, empty: { base: '' } };
    expect(parseNamespaceFile('a.yaml', serializeNamespaceFile(keys, 'yaml'))).toEqual(keys);
    expect(parseNamespaceFile('a.json', serializeNamespaceFile(keys, 'json'))).toEqual(keys);
  });

  it('names the file, the place and the line of what it refuses', () => {
    expect(problemOf('keys:\n  model:\n    base: 1\n  model:\n    base: 2\n')).toMatchObject({ file: 'acme/app.yaml', line: 4, problem: expect.stringMatching(/unique/) });
    expect(problemOf('keys:\n  model: [1\n')).toMatchObject({ file: 'acme/app.yaml', path: '', line: expect.any(Number) });
    expect(problemOf('keys: {}\nsettings: {}\n')).toEqual({ file: 'acme/app.yaml', path: 'settings', line: 2, problem: 'unknown field; a file holds "keys" only' });
    expect(problemOf('- 1\n')).toMatchObject({ path: '', line: 1, problem: 'must be a mapping with a "keys" field' });
    expect(problemOf('keys:\n  Model:\n    base: 1\n')).toMatchObject({ path: 'keys.Model', line: 2, problem: expect.stringContaining('must match') });
    expect(problemOf('keys:\n  history:\n    base: 1\n')).toMatchObject({ path: 'keys.history', problem: expect.stringContaining('reserved') });
    expect(problemOf('keys:\n  model: 1\n')).toMatchObject({ path: 'keys.model', line: 2, problem: 'must map at least one environment to a value' });
    expect(problemOf('keys:\n  model:\n    Prod!: 1\n')).toMatchObject({ path: 'keys.model.Prod!', line: 3 });
    expect(problemOf('keys:\n  model:\n    base: {limit: .nan}\n')).toEqual({
      file: 'acme/app.yaml',
      path: 'keys.model.base',
      line: 3,
      problem: 'NaN is not a JSON number at /limit',
    });
  });
});

describe(namespaceOfFile.name, () => {
  it('makes the path the namespace and refuses paths that cannot be one', () => {
    expect(namespaceOfFile(join('acme', 'chatbot.yml'))).toBe('acme/chatbot');
    expect(() => namespaceOfFile(join('Acme', 'chatbot.yaml'))).toThrow(/Acme/);
  });
});

describe(readConfigDirectory.name, () => {
  it('reads every config file below a directory and refuses two files for one namespace', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'sdk-files-'));
    try {
      await mkdir(join(directory, 'acme', 'app'), { recursive: true });
      await writeFile(join(directory, 'acme', 'app.yaml'), 'keys:\n  a:\n    base: 1\n');
      await writeFile(join(directory, 'acme', 'app', 'eval.json'), '{"keys": {"b": {"base": 2}}}');
      await writeFile(join(directory, 'README.md'), '# not config');
      expect(await readConfigDirectory(directory)).toEqual([
        { namespace: 'acme/app', file: join('acme', 'app.yaml'), keys: { a: { base: 1 } } },
        { namespace: 'acme/app/eval', file: join('acme', 'app', 'eval.json'), keys: { b: { base: 2 } } },
      ]);
      await writeFile(join(directory, 'acme', 'app.json'), '{"keys": {}}');
      await expect(readConfigDirectory(directory)).rejects.toThrow('acme/app.yaml: namespace acme/app is already defined by acme/app.json');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
