// The wake-slot protocol between a VMM and the timer PD (src/vmm-runtime/include/vmm_wake.h):
// the sizes resolution gives its regions and the number of VMMs one timer PD serves.
// test/compile/abi/headers.test.ts reads the header and compares.

/** Bytes of a wake slot region (one page; its first 8 bytes are the slot). */
export const WAKE_SLOT_REGION_SIZE = 0x1000n;
/** VMMs one timer PD serves: one per channel id a PD can have. */
export const WAKE_MAX_CLIENTS = 61;
