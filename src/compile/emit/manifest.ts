// manifest.json: every artefact of a synthesis and, per guest, where its images go. Tools (and
// the link step) read this rather than re-deriving placement.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { hex } from '../../format.js';
import type { QemuAttachmentModel, SystemModel } from '../model/index.js';

export interface Artefact {
  file: string;
  kind: string;
  content: string | Uint8Array;
}

export interface GuestPlacement {
  kernel: { gpa: bigint; size: bigint } | undefined;
  dtb: { gpa: bigint; size: bigint } | undefined;
  initrd: { gpa: bigint; size: bigint } | undefined;
  entry: bigint | undefined;
  /** How the link step stored kernel and initrd in the VMM (absent when nothing was linked). */
  stored?: { kernel: StoredImageFacts; initrd: StoredImageFacts | undefined } | undefined;
  /** Kernel, DTB and initrd are prefilled in guest RAM (Microkit 2.3.0): the VMM copies none of them. */
  prefilled?: boolean | undefined;
}

export interface StoredImageFacts {
  compressed: boolean;
  /** Bytes in the VMM's program image. */
  size: bigint;
  /** Bytes in guest RAM. */
  unpackedSize: bigint;
}

export interface ManifestInput {
  toolVersion: string;
  system: SystemModel;
  config: string;
  /** Directory paths in the manifest are relative to (the output directory). */
  outDir: string;
  artefacts: Artefact[];
  placements: ReadonlyMap<string, GuestPlacement>;
  skipped: { step: string; reason: string }[];
}

function rel(outDir: string, p: string): string {
  return path.relative(outDir, p).split(path.sep).join('/');
}

export function emitManifest(input: ManifestInput): string {
  const { system, outDir } = input;
  const range = (r: { gpa: bigint; size: bigint } | undefined): unknown => (r ? { gpa: hex(r.gpa), size: hex(r.size) } : null);
  const stored = (s: StoredImageFacts | undefined): Record<string, unknown> =>
    (s ? { stored: { compressed: s.compressed, size: hex(s.size), unpackedSize: hex(s.unpackedSize) } } : {});
  const manifest = {
    tool: 'sel4cp-synth',
    version: input.toolVersion,
    system: system.name,
    source: rel(outDir, system.file),
    board: system.board ? { name: system.board.name, microkitBoard: system.board.microkitBoard, gicVersion: system.board.gic.version } : null,
    microkit: system.microkit,
    config: input.config,
    artefacts: input.artefacts.map((a) => ({
      file: a.file,
      kind: a.kind,
      size: typeof a.content === 'string' ? Buffer.byteLength(a.content) : a.content.byteLength,
      sha256: createHash('sha256').update(a.content).digest('hex'),
    })),
    virtualMachines: system.guests.map((g) => {
      const p = input.placements.get(g.vm);
      return {
        name: g.vm,
        vmm: g.vmm,
        vcpus: g.vcpus,
        gicVersion: g.gicVersion,
        ram: { region: g.ram.mr, gpa: hex(g.ram.gpa), size: hex(g.ram.size), vmmVaddr: hex(g.ram.vmmVaddr) },
        kernel: { path: rel(outDir, g.kernel.path), found: g.kernel.size !== undefined, ...spread(range(p?.kernel)), ...stored(p?.stored?.kernel) },
        entry: p?.entry !== undefined ? hex(p.entry) : null,
        dtb: { path: g.dtb ? rel(outDir, g.dtb.path) : null, ...spread(range(p?.dtb)) },
        initrd: g.initrd ? { path: rel(outDir, g.initrd.path), found: g.initrd.size !== undefined, ...spread(range(p?.initrd)), ...stored(p?.stored?.initrd) } : null,
        compressImages: g.compressImages,
        ...(p?.prefilled ? { imagesPrefilled: true } : {}),
        bootargs: g.bootargs,
        passthrough: g.passthrough.map((d) => ({
          device: d.device,
          region: d.mr,
          gpa: hex(d.gpa),
          size: hex(d.size),
          irqs: d.irqs.map((q) => ({ irq: q.irq, channel: q.channel, trigger: q.trigger })),
          ...(d.qemu ? { qemu: qemuEntry(d.qemu, outDir) } : {}),
        })),
      };
    }),
    skipped: input.skipped,
  };
  return JSON.stringify(manifest, null, 2) + '\n';
}

function spread(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : { gpa: null, size: null };
}

/** What QEMU attaches to a passed-through transport, as `run` starts it (src/run/machine.ts). */
function qemuEntry(a: QemuAttachmentModel, outDir: string): Record<string, unknown> {
  const bus = a.transport !== undefined ? `virtio-mmio-bus.${a.transport}` : null;
  if (a.kind === 'disk') return { kind: 'disk', bus, file: rel(outDir, a.file), readOnly: a.readOnly };
  return { kind: 'nic', bus, mac: a.mac, network: 'user,restrict=on', forward: a.forward, hostServices: a.hostServices };
}
