import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from '@jest/globals';
import { runVerifyCli } from '@llmops/audit-service';
import { waitFor } from '@llmops/platform-testing';
import { call, login, type RunningPlatform } from './platform-harness.js';

interface TreeHead {
  tree_size: number;
  root_hash: string;
  timestamp: number;
  key_id: string;
  signature: string;
}

/** Runs the offline verifier on files, as an auditor would with `nx run audit-service:verify`. */
async function verifyOffline(files: Record<string, unknown>, args: (dir: string) => string[]): Promise<{ status: number; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'e2e-verify-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      await writeFile(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
    }
    const lines: string[] = [];
    const status = await runVerifyCli(args(dir), { out: (line) => lines.push(line), err: (line) => lines.push(line) });
    return { status, output: lines.join('\n') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const inclusionArgs = (dir: string): string[] => ['inclusion', join(dir, 'proof.json'), '--keys', join(dir, 'keys.json')];

/**
 * The audit trail as an auditor walks it through the gateway: security events in the log with their sensitive
 * fields hashed but searchable, signed tree heads, inclusion and consistency proofs and an exported segment that the
 * offline verifier accepts, a clean integrity check, the compliance report as JSON and CSV, bad requests answered
 * with 4xx that name the problem; with `databaseUrl`, a row edited with psql is then caught.
 */
export async function walkTheAuditTrail(platform: RunningPlatform, options: { databaseUrl?: string } = {}): Promise<void> {
  const { baseUrl } = platform;
  const token = await login(baseUrl);
  const failed = await call(baseUrl, 'POST', '/api/v1/auth/login', { body: { email: 'mallory@example.com', password: 'not-the-password' } });
  expect(failed.status).toBe(401);
  for (const key of ['a', 'b', 'c']) {
    const put = await call(baseUrl, 'PUT', `/api/v1/configs/audit-trail/app/${key}?env=production`, { token, body: { value: key } });
    expect(put.status).toBe(200);
  }

  // Other scenarios fail logins too and their events may arrive later, so pick mallory's by its hashed email.
  const hashed = await call(baseUrl, 'POST', '/api/v1/audit_logs/hash', { token, body: { value: 'mallory@example.com' } });
  expect(hashed.status).toBe(200);
  expect(hashed.body.hash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
  const loginFailure = await waitFor(
    async () => {
      const page = await call(baseUrl, 'GET', '/api/v1/audit_logs?event_type=auth.login_failed&limit=500', { token });
      expect(page.status).toBe(200);
      const writes = await call(baseUrl, 'GET', '/api/v1/audit_logs?resource_type=configs&limit=500', { token });
      const trailWrites = writes.body.data.filter((entry: { resource_id: string }) => entry.resource_id.startsWith('audit-trail/'));
      const mallorys = page.body.data.find((entry: { details: { email?: string } }) => entry.details.email === hashed.body.hash);
      return mallorys && trailWrites.length >= 3 ? mallorys : undefined;
    },
    { timeoutMs: 20_000, message: 'the audit entries did not arrive' },
  );
  expect(Object.keys(loginFailure)).toEqual([
    'id', 'leaf_index', 'event_type', 'actor_id', 'actor_type', 'resource_type', 'resource_id', 'action', 'details',
    'ip_address', 'user_agent', 'source', 'correlation_id', 'created_at',
  ]);
  expect(JSON.stringify(loginFailure)).not.toContain('mallory@example.com');
  const search = await call(baseUrl, 'GET', `/api/v1/audit_logs?details.email=${encodeURIComponent('mallory@example.com')}`, { token });
  expect(search.body.data.map((entry: { id: string }) => entry.id)).toContain(loginFailure.id);

  // Signed heads, keys, and a proof for the failed login that verifies offline.
  const keys = await call(baseUrl, 'GET', '/api/v1/audit_logs/keys', { token });
  expect(keys.status).toBe(200);
  expect(keys.body.keys).toEqual([expect.objectContaining({ algorithm: 'ed25519', retired_at: null })]);
  const firstHead = await waitFor(
    async () => {
      const sth = await call<{ tree_head: TreeHead }>(baseUrl, 'GET', '/api/v1/audit_logs/sth', { token });
      return sth.status === 200 && sth.body.tree_head.tree_size > loginFailure.leaf_index ? sth.body.tree_head : undefined;
    },
    { timeoutMs: 10_000, message: 'no signed tree head covers the entry' },
  );
  expect(firstHead.key_id).toBe(keys.body.keys[0].key_id);
  const proof = await call(baseUrl, 'GET', `/api/v1/audit_logs/${loginFailure.id}/proof?tree_size=${firstHead.tree_size}`, { token });
  expect(proof.status).toBe(200);
  expect(proof.body).toMatchObject({ leaf_index: loginFailure.leaf_index, tree_size: firstHead.tree_size, tree_head: firstHead, entry: loginFailure });
  expect(await verifyOffline({ 'proof.json': proof.body, 'keys.json': keys.body }, inclusionArgs)).toMatchObject({ status: 0 });

  // The log grows; the bigger tree provably extends the first one.
  const more = await call(baseUrl, 'PUT', '/api/v1/configs/audit-trail/app/d?env=production', { token, body: { value: 'd' } });
  expect(more.status).toBe(200);
  const secondHead = await waitFor(
    async () => {
      const sth = await call<{ tree_head: TreeHead }>(baseUrl, 'GET', '/api/v1/audit_logs/sth', { token });
      return sth.body.tree_head.tree_size > firstHead.tree_size ? sth.body.tree_head : undefined;
    },
    { timeoutMs: 10_000, message: 'the tree did not grow' },
  );
  const consistency = await call(baseUrl, 'GET', `/api/v1/audit_logs/consistency?first=${firstHead.tree_size}&second=${secondHead.tree_size}`, { token });
  expect(consistency.status).toBe(200);
  const signedFirst = await call(baseUrl, 'GET', `/api/v1/audit_logs/sth?tree_size=${firstHead.tree_size}`, { token });
  expect(signedFirst.body.tree_head).toEqual(firstHead);
  const consistent = await verifyOffline(
    { 'proof.json': consistency.body, 'keys.json': keys.body, 'first.json': signedFirst.body, 'second.json': { tree_head: secondHead } },
    (dir) => ['consistency', join(dir, 'proof.json'), '--keys', join(dir, 'keys.json'), '--first-sth', join(dir, 'first.json'), '--second-sth', join(dir, 'second.json')],
  );
  expect(consistent).toMatchObject({ status: 0 });

  // An exported segment rebuilds the signed root offline.
  const exported = await fetch(`${baseUrl}/api/v1/audit_logs/export?start=1&tree_size=${secondHead.tree_size}`, { headers: { authorization: `Bearer ${token}` } });
  expect(exported.status).toBe(200);
  expect(exported.headers.get('content-type')).toContain('application/x-ndjson');
  const segment = await exported.text();
  expect(segment.trim().split('\n')).toHaveLength(secondHead.tree_size);
  const segmentArgs = (dir: string): string[] => ['segment', join(dir, 'segment.ndjson'), '--keys', join(dir, 'keys.json')];
  expect(await verifyOffline({ 'segment.ndjson': segment, 'keys.json': keys.body }, segmentArgs)).toMatchObject({ status: 0 });

  const verified = await call(baseUrl, 'POST', '/api/v1/audit_logs/verify', { token, body: {} });
  expect(verified.status).toBe(200);
  expect(verified.body).toMatchObject({ valid: true, violations: [], entries_pruned: 0 });
  expect(verified.body.tree_size).toBeGreaterThanOrEqual(secondHead.tree_size);

  // The compliance report, as JSON and as CSV.
  const from = new Date(Date.now() - 3_600_000).toISOString();
  const to = new Date(Date.now() + 60_000).toISOString();
  const report = await call(baseUrl, 'GET', `/api/v1/compliance/report?from=${from}&to=${to}`, { token });
  expect(report.status).toBe(200);
  const section = (name: string): { total: number } => report.body.sections.find((candidate: { name: string }) => candidate.name === name);
  expect(section('authentication_failures').total).toBeGreaterThanOrEqual(1);
  expect(section('configuration_changes').total).toBeGreaterThanOrEqual(4);
  expect(section('permission_changes')).toBeDefined();
  const csv = await fetch(`${baseUrl}/api/v1/compliance/report?from=${from}&to=${to}&format=csv`, { headers: { authorization: `Bearer ${token}` } });
  expect(csv.headers.get('content-type')).toContain('text/csv');
  const csvText = await csv.text();
  expect(csvText.split('\r\n')[0]).toBe('section,kind,key,count');
  expect(csvText).toContain('authentication_failures,event_type,auth.login_failed,');

  // Bad requests are 4xx that say what is wrong.
  const bad = async (method: string, path: string, status: number, mentions: string, body?: unknown): Promise<void> => {
    const response = await call(baseUrl, method, path, { token, body });
    expect({ path, status: response.status }).toEqual({ path, status });
    expect(response.body.error.message).toContain(mentions);
  };
  await bad('GET', '/api/v1/audit_logs/sth?tree_size=abc', 400, 'tree_size');
  await bad('GET', `/api/v1/audit_logs/sth?tree_size=${secondHead.tree_size + 1000}`, 404, 'tree size');
  await bad('GET', '/api/v1/audit_logs/not-a-uuid/proof', 400, 'id');
  await bad('GET', '/api/v1/audit_logs/00000000-0000-4000-8000-000000000000/proof', 404, 'does not exist');
  await bad('GET', `/api/v1/audit_logs/${loginFailure.id}/proof?tree_size=${secondHead.tree_size + 1000}`, 400, 'exceeds');
  await bad('GET', '/api/v1/audit_logs/consistency?first=5&second=2', 400, 'first');
  await bad('GET', '/api/v1/compliance/report?to=2026-01-01T00:00:00Z', 400, 'from');
  await bad('GET', '/api/v1/compliance/report?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 400, '366 days');
  await bad('POST', '/api/v1/audit_logs/verify', 400, 'tree_size', { tree_size: -1 });
  const viewerKey = await call(baseUrl, 'POST', '/api/v1/api-keys', { token, body: { name: 'auditor', roles: ['viewer'] } });
  expect(viewerKey.status).toBe(201);
  const viewerVerify = await call(baseUrl, 'POST', '/api/v1/audit_logs/verify', { apiKey: viewerKey.body.key, body: {} });
  expect(viewerVerify.status).toBe(403);
  expect((await call(baseUrl, 'GET', '/api/v1/audit_logs/sth', { apiKey: viewerKey.body.key })).status).toBe(200);

  if (!options.databaseUrl) return;
  // An operator edits a stored entry with psql: verification names it, and its proof no longer verifies offline.
  const [edited] = (await call(baseUrl, 'GET', '/api/v1/audit_logs?resource_type=configs&limit=1', { token })).body.data;
  await promisify(execFile)('psql', [options.databaseUrl, '-v', 'ON_ERROR_STOP=1', '-q', '-c',
    `UPDATE audit_service.audit_logs SET actor_id = 'someone-else' WHERE id = '${edited.id}'`]);
  const tampered = await call(baseUrl, 'POST', '/api/v1/audit_logs/verify', { token, body: {} });
  expect(tampered.status).toBe(200);
  expect(tampered.body.valid).toBe(false);
  expect(tampered.body.violations).toEqual([expect.objectContaining({ index: edited.leaf_index, kind: 'modified', entry_id: edited.id })]);
  const tamperedProof = await call(baseUrl, 'GET', `/api/v1/audit_logs/${edited.id}/proof`, { token });
  const rejected = await verifyOffline({ 'proof.json': tamperedProof.body, 'keys.json': keys.body }, inclusionArgs);
  expect(rejected.status).toBe(1);
  expect(rejected.output).toContain('was altered');
}
