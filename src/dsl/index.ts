// What a systems.ts imports from 'sel4cp-synth'.
export { bytes, kib, mib, gib, addr, type Size, type Address } from './units.js';
export {
  memoryRegion, map, irq, setvarRegionPaddr, protectionDomain, bareVirtualMachine, channel, end, cap,
  type CapMap, type VcpuSpec,
  type MemoryRegion, type MemoryRegionOptions, type Mapping, type MapOptions, type Irq, type IrqOptions,
  type SetVar, type ProtectionDomain, type ProtectionDomainOptions, type ChildPd, type BareVirtualMachine,
  type BareVirtualMachineOptions, type Channel, type ChannelEnd, type ChannelEndOptions, type Perms,
  type IrqTrigger, type SchedulingOptions,
} from './constructs.js';
export {
  virtualMachine, passthrough, emulated,
  type VirtualMachine, type Emulated, type EmulatedKind, type VirtualMachineOptions, type RestartPolicy, type Passthrough, type PassthroughOptions, type DeviceSpec, type VmmOptions,
} from './vm.js';
export { system, type System, type SystemOptions, type VmmTimerOptions } from './system.js';
export { domain, domainSchedule, type Domain, type DomainOptions, type DomainSchedule, type DomainScheduleOptions, type DomainSlot } from './domains.js';
export {
  virtioConsole, virtioBlock, netLink,
  type VirtioConsole, type VirtioConsoleOptions, type VirtioBlock, type VirtioBlockOptions, type VirtioDevice,
  type NetLink, type NetLinkEndpoint, type NetLinkOptions,
} from './virtio.js';
export {
  qemuNic, qemuDisk, QEMU_USER_GUEST, QEMU_USER_SERVICE,
  type QemuNic, type QemuNicOptions, type QemuDisk, type QemuDiskOptions, type QemuDevice, type QemuForward, type QemuHostService,
} from './qemu.js';
export { control, type Control, type ControlOptions } from './lifecycle.js';
export { initramfs, networkSetupScript, GUEST_BRIDGE_PARAM, GUEST_GW_PARAM, GUEST_IP_PARAM, NETWORK_APPLETS, type Initramfs, type InitramfsOptions } from './initramfs.js';
export { context, contextFile, guestImage, optionalContextFile, file, type FileRef } from './context.js';
export { DslError } from './errors.js';
export { allow, only, policy, trustDomain, type AllowRule, type FlowKind, type OnlyRule, type Policy, type PolicyOptions, type PolicyRule, type PolicySubject, type TrustDomain } from './policy.js';
export type { SourceLocation } from './location.js';
