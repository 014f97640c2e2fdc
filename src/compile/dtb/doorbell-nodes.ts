/**
 * The guest's view of its doorbells and shared regions (docs/doorbell.md).
 *
 * Doorbells: one `arm,pl061` GPIO controller (Linux Documentation/devicetree/bindings/gpio/
 * pl061-gpio.yaml; driver gpio-pl061, built into Debian's arm64 kernel), an AMBA primecell
 * with its `apb_pclk` (a fixed clock of its own, so the node does not depend on the board's
 * clock tree), a level-high SPI, and `gpio-line-names` naming each line after the peer, so a
 * guest program finds its lines by name through the GPIO character device.
 *
 * Shared regions: a `shared-memory@<gpa>` node per region the VM maps, with the region's name
 * (`label`), its peers and permissions. No driver binds it (no `compatible`): a guest program
 * maps it through /dev/mem, which Linux allows for addresses outside its RAM.
 */
import { addNode, addressCells, sizeCells } from './tree.js';
import type { Fdt } from './fdt.js';
import { cellsValue, setProp, stringListValue, stringValue, u32Value } from './props.js';
import { freePhandle, gicPhandle } from './guest-dtb.js';

/** What the device tree says of a VM's doorbells. */
export interface GuestDoorbellNode {
  gpa: bigint;
  size: bigint;
  intid: number;
  lines: readonly { ring: number | undefined; notify: number; names: { ring: string; notify: string } }[];
}

export interface GuestSharedRegionNode {
  mr: string;
  gpa: bigint;
  size: bigint;
  perms: string;
  peers: readonly string[];
}

/** PL061 lines (ARM DDI 0190B): the length of `gpio-line-names`. */
const PL061_LINES = 8;
/** The PL061's AMBA peripheral id (part 0x061, designer 0x41), as Linux's amba table has it. */
const PL061_PERIPHID = 0x00041061;
/** Any rate does: the PL061 has no timing of its own; 24 MHz is QEMU virt's apb-pclk. */
const PCLK_HZ = 24_000_000;

/** Adds the doorbells' PL061 and its clock under /. */
export function addDoorbellNode(tree: Fdt, db: GuestDoorbellNode): void {
  const gic = gicPhandle(tree, 'the doorbells\' interrupt');
  const root = tree.root;
  const clockPhandle = freePhandle(tree);
  const clock = addNode(root, 'doorbell-pclk');
  setProp(clock, 'compatible', stringValue('fixed-clock'));
  setProp(clock, '#clock-cells', u32Value(0));
  setProp(clock, 'clock-frequency', u32Value(PCLK_HZ));
  setProp(clock, 'clock-output-names', stringValue('doorbell_pclk'));
  setProp(clock, 'phandle', u32Value(clockPhandle));

  const names: string[] = Array.from({ length: PL061_LINES }, () => '');
  for (const l of db.lines) {
    if (l.ring !== undefined) names[l.ring] = l.names.ring;
    names[l.notify] = l.names.notify;
  }
  const node = addNode(root, `gpio@${db.gpa.toString(16)}`);
  setProp(node, 'compatible', stringListValue(['arm,pl061', 'arm,primecell']));
  setProp(node, 'reg', cellsValue([[db.gpa, addressCells(root)], [db.size, sizeCells(root)]]));
  setProp(node, 'interrupt-parent', u32Value(gic));
  setProp(node, 'interrupts', u32Value(0, db.intid - 32, 4));
  setProp(node, 'gpio-controller', new Uint8Array(0));
  setProp(node, '#gpio-cells', u32Value(2));
  setProp(node, 'interrupt-controller', new Uint8Array(0));
  setProp(node, '#interrupt-cells', u32Value(2));
  setProp(node, 'clocks', u32Value(clockPhandle));
  setProp(node, 'clock-names', stringValue('apb_pclk'));
  setProp(node, 'arm,primecell-periphid', u32Value(PL061_PERIPHID));
  setProp(node, 'gpio-line-names', stringListValue(names));
}

/** Adds a `shared-memory@<gpa>` node under / for each region the VM maps. */
export function addSharedRegionNodes(tree: Fdt, regions: readonly GuestSharedRegionNode[]): void {
  const root = tree.root;
  for (const r of regions) {
    const node = addNode(root, `shared-memory@${r.gpa.toString(16)}`);
    setProp(node, 'reg', cellsValue([[r.gpa, addressCells(root)], [r.size, sizeCells(root)]]));
    setProp(node, 'label', stringValue(r.mr));
    setProp(node, 'sel4cp-synth,perms', stringValue(r.perms));
    if (r.peers.length > 0) setProp(node, 'sel4cp-synth,peers', stringListValue(r.peers));
  }
}
