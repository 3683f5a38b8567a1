import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import {
  parsePublicKeys,
  verifyConsistencyDocument,
  verifyInclusionDocument,
  verifySegment,
  type TreeHeadDocument,
  type VerificationResult,
} from './offline-verifier.js';

const USAGE = `Verifies the audit log offline, with no access to the server.

  verify segment <export.ndjson>   --keys <keys.json|key.pem>
  verify inclusion <proof.json>    --keys <keys.json|key.pem> [--sth <sth.json>]
  verify consistency <proof.json>  --keys <keys.json|key.pem> --first-sth <sth.json> --second-sth <sth.json>

Files are what the API returns: GET /api/v1/audit_logs/export, /{id}/proof, /consistency, /sth and /keys.
Exit status: 0 verified, 1 verification failed, 2 bad usage or unreadable input.`;

export interface CliOutput {
  out: (line: string) => void;
  err: (line: string) => void;
}

const standardOutput: CliOutput = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Runs the offline verifier; returns the process exit status. */
export async function runVerifyCli(argv: string[], output: CliOutput = standardOutput): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        keys: { type: 'string' },
        sth: { type: 'string' },
        'first-sth': { type: 'string' },
        'second-sth': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    output.err(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, file] = positionals;
  if (values.help) {
    output.out(USAGE);
    return 0;
  }
  if (!command || !file || !values.keys) {
    output.err(USAGE);
    return 2;
  }
  try {
    const keys = parsePublicKeys(await readFile(values.keys, 'utf8'));
    let result: VerificationResult;
    switch (command) {
      case 'segment':
        result = await verifySegment(createInterface({ input: createReadStream(file), crlfDelay: Infinity }), keys);
        break;
      case 'inclusion':
        result = verifyInclusionDocument(await readJson(file), keys, values.sth ? await readTreeHead(values.sth) : undefined);
        break;
      case 'consistency':
        if (!values['first-sth'] || !values['second-sth']) {
          output.err('verify consistency needs --first-sth and --second-sth');
          return 2;
        }
        result = verifyConsistencyDocument(
          await readJson(file),
          await readTreeHead(values['first-sth']),
          await readTreeHead(values['second-sth']),
          keys,
        );
        break;
      default:
        output.err(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
        return 2;
    }
    for (const check of result.checks) output.out(`ok    ${check}`);
    for (const problem of result.problems) output.out(`FAIL  ${problem}`);
    output.out(result.ok ? 'VERIFIED' : 'NOT VERIFIED');
    return result.ok ? 0 : 1;
  } catch (error) {
    output.err(`cannot verify: ${(error as Error).message}`);
    return 2;
  }
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** A tree head file: the bare head, or the `{"tree_head": …}` document of GET /sth. */
async function readTreeHead(path: string): Promise<TreeHeadDocument> {
  const document = await readJson<TreeHeadDocument | { tree_head: TreeHeadDocument }>(path);
  return 'tree_head' in document ? document.tree_head : document;
}
