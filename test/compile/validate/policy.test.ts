// Policy semantics that only ever narrow (issue 17, item 1): only() forbids and never grants,
// allow() and trust domains grant, and nothing else does; `flows` and `diff` say the same.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtures, runCli } from '../../helpers.js';

const file = path.join(fixtures, 'policy', 'only-beside-allow.ts');
const check = (...c: string[]) => runCli(['check', file, ...c.flatMap((kv) => ['-c', kv])]);

test('only() beside a narrower allow() rejects the undeclared flow (only() never grants)', () => {
  const r = check();
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /only-beside-allow\.ts:9:\d+: error\[flow-not-allowed\]: 'web' can influence 'monitor' \(memory: /);
  assert.not.match(r.stderr, /forbids it/, 'web is listed in the only(): it does not forbid, nor grant');
  assert.match(r.stderr, /allow\('web', 'monitor', \{ kinds: \['memory'\] \}\)/);
});

test('only(): removing it does not change the verdict on a flow it lists', () => {
  const r = check('only=0');
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /error\[flow-not-allowed\]: 'web' can influence 'monitor' \(memory: /);
});

test('only(): a flow both granted by allow() and listed passes; a source it leaves out is forbidden, allow() or not', () => {
  const ok = check('allowMemory=1');
  assert.is(ok.status, 0, ok.stderr);
  const forbidden = check('allowMemory=1', 'onlyWeb=0');
  assert.is(forbidden.status, 1, forbidden.stderr);
  assert.match(forbidden.stderr, /error\[flow-not-allowed\]: 'web' can influence 'monitor' \(memory: /);
  assert.match(forbidden.stderr, /note: only\(monitor, \[heartbeat\]\) forbids it/);
});

test('flows: a flow an only() lists but nothing allows is NOT ALLOWED', () => {
  const r = runCli(['flows', file]);
  assert.match(r.stdout, /web -> monitor {2}memory {2}NOT ALLOWED/);
  assert.match(r.stdout, /web -> monitor {2}notify {2}allowed/);
});

test('check --policy FILE applies alongside the systems.ts policy, never in its place', () => {
  const permissive = path.join(fixtures, 'policy', 'allow-all-three.policy.ts');
  const r = runCli(['check', file, '--policy', permissive]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /only-beside-allow\.ts:9:\d+: error\[flow-not-allowed\]: 'web' can influence 'monitor' \(memory: /);
  assert.match(r.stderr, /note: the policy is declared here at .*only-beside-allow\.ts:/);
  // Both satisfied: the file's own policy (with allowMemory) and the permissive one.
  const ok = runCli(['check', file, '-c', 'allowMemory=1', '--policy', permissive]);
  assert.is(ok.status, 0, ok.stderr);
  const flows = runCli(['flows', file, '--policy', permissive]);
  assert.match(flows.stdout, /web -> monitor {2}memory {2}NOT ALLOWED/);
});

/** The fixture with some of its context defaults changed (`only=0`), written to `dir`. */
function variant(dir: string, name: string, settings: string[]): string {
  let text = readFileSync(file, 'utf8');
  for (const kv of settings) {
    const [key, value] = kv.split('=') as [string, string];
    text = text.replace(new RegExp(`context\\('${key}', '[01]'\\)`), `context('${key}', '${value}')`);
  }
  const out = path.join(dir, `${name}.ts`);
  writeFileSync(out, text);
  return out;
}

interface PolicyChange { key: string; op: string; flags: string[]; reasons: string[] }

/** `diff` between two variants of the fixture: its policy changes and their privilege flags. */
function policyDiff(older: string[], newer: string[]): PolicyChange[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-policy-'));
  try {
    const r = runCli(['diff', variant(dir, 'old', older), variant(dir, 'new', newer), '--format', 'json'], { env: { MICROKIT_SDK: '' } });
    assert.ok(r.status === 0 || r.status === 1, r.stderr);
    const json = JSON.parse(r.stdout) as { changes: { kind: string; key: string; op: string; privilege: { flag: string; reason: string }[] }[] };
    return json.changes.filter((c) => c.kind === 'policy').map((c) => ({ key: c.key, op: c.op, flags: c.privilege.map((p) => p.flag), reasons: c.privilege.map((p) => p.reason) }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('diff: removing an only() that forbids nothing the rest allows is no widening', () => {
  const changes = policyDiff([], ['only=0']);
  assert.equal(changes.map((c) => [c.key, c.op, c.flags]), [['only(monitor, [heartbeat, web])', 'removed', []]]);
});

test('diff: adding an only() never widens; removing one that forbids an allowed flow does', () => {
  const added = policyDiff(['only=0'], []);
  assert.equal(added.map((c) => [c.op, c.flags]), [['added', []]]);
  const removed = policyDiff(['allowMemory=1', 'onlyWeb=0'], ['allowMemory=1', 'only=0']);
  const only = removed.find((c) => c.key === 'only(monitor, [heartbeat])')!;
  assert.equal(only.flags, ['policy-widened']);
  assert.match(only.reasons[0]!, /lets more through: only\(monitor, \[heartbeat\]\) removed allows 'web' -> 'monitor' \(memory\)/);
});

test('diff: an allow() added under an only() that forbids it is no widening; with that only() gone, both are flagged, the only() added in its place never', () => {
  const blocked = policyDiff(['onlyWeb=0'], ['onlyWeb=0', 'allowMemory=1']);
  assert.ok(blocked.every((c) => c.flags.length === 0), JSON.stringify(blocked));
  const both = policyDiff(['onlyWeb=0'], ['allowMemory=1']);
  const flagged = both.filter((c) => c.flags.includes('policy-widened')).map((c) => `${c.key} ${c.op}`).sort();
  assert.equal(flagged, [
    'allow([web], [monitor], notify/memory) added',
    'only(monitor, [heartbeat]) removed',
  ].sort());
});

test.run();
