// A link ring's region as src/compile/abi/net-link.ts sizes it (its constants against net_link.h:
// headers.test.ts): whole pages, growing with the capacity.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NET_LINK_BUFFER_SIZE, netLinkRegionSize } from '../../../src/compile/abi/net-link.js';

test('every region is whole pages and grows with the capacity', () => {
  let last = 0n;
  for (let cap = 16; cap <= 4096; cap *= 2) {
    const size = netLinkRegionSize(cap);
    assert.is(size % 0x1000n, 0n);
    assert.ok(size > last);
    assert.ok(size >= BigInt(cap) * NET_LINK_BUFFER_SIZE);
    last = size;
  }
});

test.run();
