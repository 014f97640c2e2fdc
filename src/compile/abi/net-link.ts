// The ring layout of a network link (docs/net-link.md), as src/vmm-runtime/include/net_link.h
// pins it: what TypeScript needs of it is the size of one direction's region and where its
// queues and data start, for a capacity. The formulas are the header's NET_LINK_*_OFFSET and
// NET_LINK_REGION_SIZE macros; test/compile/abi/headers.test.ts reads the header and compares.

/** sizeof(struct net_link_header): the region starts with it. */
export const NET_LINK_HEADER_SIZE = 0x40n;
/** The free queue follows the header. */
export const NET_LINK_FREE_OFFSET = 0x40n;
/** Bytes of one frame buffer in the data area (a 1514-byte Ethernet frame fits). */
export const NET_LINK_BUFFER_SIZE = 2048n;
export const NET_LINK_QUEUE_ALIGN = 64n;
export const NET_LINK_DATA_ALIGN = 0x1000n;
/** sizeof(struct net_link_queue): tail, head, consumer_signalled, before its descriptors. */
export const NET_LINK_QUEUE_HEADER_SIZE = 8n;
/** sizeof(struct net_link_desc): one buffer's offset and length. */
export const NET_LINK_DESC_SIZE = 16n;
/** The most buffers a ring may have (a power of two up to this; the DSL allows 16 to 4096). */
export const NET_LINK_MAX_CAPACITY = 32768;

function alignUp(v: bigint, a: bigint): bigint {
  return (v + a - 1n) / a * a;
}

/** NET_LINK_QUEUE_BYTES(capacity): a queue's header and descriptors, padded to the queue alignment. */
function queueBytes(capacity: number): bigint {
  return alignUp(NET_LINK_QUEUE_HEADER_SIZE + NET_LINK_DESC_SIZE * BigInt(capacity), NET_LINK_QUEUE_ALIGN);
}

/** NET_LINK_ACTIVE_OFFSET(capacity): after the header and the free queue. */
export function netLinkActiveOffset(capacity: number): bigint {
  return NET_LINK_FREE_OFFSET + queueBytes(capacity);
}

/** NET_LINK_DATA_OFFSET(capacity): the data area starts on a page after both queues. */
export function netLinkDataOffset(capacity: number): bigint {
  return alignUp(netLinkActiveOffset(capacity) + queueBytes(capacity), NET_LINK_DATA_ALIGN);
}

/** NET_LINK_REGION_SIZE(capacity): header, queues, then `capacity` buffers, whole pages. */
export function netLinkRegionSize(capacity: number): bigint {
  return alignUp(netLinkDataOffset(capacity) + BigInt(capacity) * NET_LINK_BUFFER_SIZE, NET_LINK_DATA_ALIGN);
}
