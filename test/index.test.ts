import { test } from 'uvu';
import * as assert from 'uvu/assert';

test('the package entry point loads', async () => {
  const mod = await import('../src/index.js');
  assert.type(mod, 'object');
});

test.run();
