// The link ring's layout as TypeScript sizes it is the one net_link.h pins (read from the header).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NET_LINK_BUFFER_SIZE, NET_LINK_DATA_ALIGN, NET_LINK_HEADER_SIZE, NET_LINK_QUEUE_ALIGN, netLinkActiveOffset, netLinkDataOffset, netLinkRegionSize } from '../../../src/compile/abi/net-link.js';
import { readCHeader } from '../../c-header.js';

test('net link sizes are those net_link.h pins', () => {
  const h = readCHeader('src/vmm-runtime/include/net_link.h');
  const d = (name: string): bigint => BigInt(h.defines.get(name) ?? -1);
  assert.is(d('NET_LINK_HEADER_SIZE'), NET_LINK_HEADER_SIZE);
  assert.is(d('NET_LINK_BUFFER_SIZE'), NET_LINK_BUFFER_SIZE);
  assert.is(d('NET_LINK_QUEUE_ALIGN'), NET_LINK_QUEUE_ALIGN);
  assert.is(d('NET_LINK_DATA_ALIGN'), NET_LINK_DATA_ALIGN);
  const cap = Number(d('NET_LINK_DEFAULT_CAPACITY'));
  assert.is(cap, 512);
  assert.is(netLinkActiveOffset(cap), d('NET_LINK_DEFAULT_ACTIVE_OFFSET'));
  assert.is(netLinkDataOffset(cap), d('NET_LINK_DEFAULT_DATA_OFFSET'));
  assert.is(netLinkRegionSize(cap), d('NET_LINK_DEFAULT_REGION_SIZE'));
  assert.is(h.sizes.get('net_link_header'), Number(NET_LINK_HEADER_SIZE));
  assert.is(h.sizes.get('net_link_desc'), 16);
  assert.is(h.sizes.get('net_link_queue'), 8);
});

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
