// The ring protocol of a network link (docs/net-link.md, src/vmm-runtime/include/net_link.h):
// what TypeScript needs of it is the size of one direction's region for a capacity. The C
// header is the source: test/compile/emit/net-link.test.ts reads its constants and compares.

export const NET_LINK_HEADER_SIZE = 0x40n;
/** Bytes of one frame buffer in the data area (a 1514-byte Ethernet frame fits). */
export const NET_LINK_BUFFER_SIZE = 2048n;
export const NET_LINK_QUEUE_ALIGN = 64n;
export const NET_LINK_DATA_ALIGN = 0x1000n;
/** Each queue: tail, head, consumer_signalled (8 bytes), then one 16-byte descriptor per buffer. */
const QUEUE_HEADER = 8n;
const DESC = 16n;

function alignUp(v: bigint, a: bigint): bigint {
  return (v + a - 1n) / a * a;
}

function queueBytes(capacity: number): bigint {
  return alignUp(QUEUE_HEADER + DESC * BigInt(capacity), NET_LINK_QUEUE_ALIGN);
}

/** NET_LINK_ACTIVE_OFFSET(capacity): after the header and the free queue. */
export function netLinkActiveOffset(capacity: number): bigint {
  return NET_LINK_HEADER_SIZE + queueBytes(capacity);
}

/** NET_LINK_DATA_OFFSET(capacity): the data area starts on a page after both queues. */
export function netLinkDataOffset(capacity: number): bigint {
  return alignUp(netLinkActiveOffset(capacity) + queueBytes(capacity), NET_LINK_DATA_ALIGN);
}

/** NET_LINK_REGION_SIZE(capacity): header, queues, then `capacity` buffers, whole pages. */
export function netLinkRegionSize(capacity: number): bigint {
  return alignUp(netLinkDataOffset(capacity) + BigInt(capacity) * NET_LINK_BUFFER_SIZE, NET_LINK_DATA_ALIGN);
}
