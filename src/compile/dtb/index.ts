/** The device tree toolkit: read, edit and write flattened device trees, and cut guest trees. */
export { DtbError, cloneFdt, cloneNode, makeNode, type Fdt, type FdtLayout, type FdtNode, type FdtProp, type FdtReservation } from './fdt.js';
export { isFdt, readFdt, readFdtHeader, type FdtHeader, type ReadFdtOptions } from './fdt-read.js';
export { writeFdt, type WriteFdtOptions } from './fdt-write.js';
export * from './props.js';
export * from './tree.js';
export * from './interrupts.js';
export { phandleReferences, type PhandleReference } from './references.js';
export { injectLinuxBoot, type LinuxBootInfo } from './inject.js';
export { makeGuestDtb, type GuestDtb, type GuestDtbFinding, type GuestDtbOptions, type GuestGic } from './guest-dtb.js';
export { crossCheckBoard, type BoardFacts, type CrossCheckFinding } from './cross-check.js';
export { compileDts, decompileDtb, haveDtc, loadDeviceTree } from './dtc.js';
