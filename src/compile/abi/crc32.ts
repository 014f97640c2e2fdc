// The checksum both configuration blobs carry (vmm_config.h, timer_config.h): CRC-32 as IEEE
// 802.3 and zlib define it, over `total_size` bytes with the `crc32` field taken as zero.

/** CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zlib computes it. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}
