// The system as a diagram, in Graphviz's DOT language. Pure: model in, DOT text out; the command
// hands it to `dot -Tsvg`.
//
// Why Graphviz rather than elkjs: `dot` lays out *and* renders (SVG with text, arrowheads,
// clusters and edge labels placed without collisions), is packaged by Debian and stable across
// decades, and its input is plain text that `--format dot` can give to users as is. elkjs only
// computes coordinates; we would have to write and maintain an SVG renderer (label sizing, edge
// label placement, arrowheads) on top of it.
//
// What is drawn: protection domains (boxes, their IRQs listed inside), each virtual machine in a
// cluster with the VMM PD that runs it, memory regions as nodes (device regions orange and
// shaped as components, guest RAM green), an edge from each PD or VM to each region it maps
// labelled with its rights (writable in orange, executable in red and bold), channels as blue
// dashed edges between PDs (a pp channel is an arrow from the caller, labelled "pp"), and child
// PDs linked to their parent.
import { hex } from '../format.js';
import { allProtectionDomains, type MapModel, type MemoryRegionModel, type ProtectionDomainModel, type SystemModel } from '../compile/model/index.js';
import { isDeviceRegion } from './diff.js';

const FONT = 'DejaVu Sans,Arial,sans-serif';

/** A quoted DOT identifier. */
function id(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Text for a DOT HTML-like label. */
function html(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const pdNode = (name: string): string => id(`pd:${name}`);
const vmNode = (name: string): string => id(`vm:${name}`);
const mrNode = (name: string): string => id(`mr:${name}`);

function humanSize(v: bigint): string {
  for (const [unit, label] of [[1n << 30n, 'GiB'], [1n << 20n, 'MiB'], [1n << 10n, 'KiB']] as const) {
    if (v >= unit && v % unit === 0n) return `${v / unit} ${label}`;
  }
  return `${hex(v)} bytes`;
}

function pdLabel(pd: ProtectionDomainModel): string {
  const rows = [`<b>${html(pd.name)}</b>`];
  const facts = [`prio ${pd.priority}`];
  if (pd.passive) facts.push('passive');
  if (pd.smc) facts.push('<font color="#c62828">smc</font>');
  const kind = pd.vmmOf !== undefined ? `VMM of ${html(pd.vmmOf)}` : pd.vmmTimer ? 'timer of the VMMs' : 'PD';
  rows.push(`<font point-size="9">${kind} · ${facts.join(' · ')}</font>`);
  for (const q of pd.irqs) {
    rows.push(`<font point-size="9" color="#6a1b9a">IRQ ${q.irq} → ch ${q.id}${q.trigger === 'edge' ? ' (edge)' : ''}${q.device ? ` · ${html(q.device)}` : ''}</font>`);
  }
  return `<${rows.join('<br/>')}>`;
}

function regionNode(model: SystemModel, mr: MemoryRegionModel): string {
  const device = isDeviceRegion(model, mr);
  const what = mr.role.kind === 'device' ? `device ${html(mr.role.device)}`
    : mr.role.kind === 'gic-vcpu' ? 'GIC vCPU interface'
      : mr.role.kind === 'guest-ram' ? `guest RAM of ${html(mr.role.vm)}`
        : mr.role.kind === 'wake-slot' ? `wake slot of ${html(mr.role.vm)}`
        : mr.role.kind === 'vm-control' ? `control of ${html(mr.role.vm)} by ${html(mr.role.by)}`
        : mr.role.kind === 'net-link' ? `link ${html(mr.role.link)}: ${html(mr.role.from)} → ${html(mr.role.to)}`
        : mr.role.kind === 'virtio-disk' ? `disk ${html(mr.role.device)} of ${html(mr.role.vm)}`
        : device ? 'device memory' : 'memory';
  const where = mr.physAddr !== undefined ? ` @ ${hex(mr.physAddr)}` : '';
  const label = `<<b>${html(mr.name)}</b><br/><font point-size="9">${what} · ${humanSize(mr.size)}${where}</font>>`;
  const style = device
    ? 'shape=component, style=filled, fillcolor="#ffe0b2", color="#e65100"'
    : mr.role.kind === 'guest-ram'
      ? 'shape=cylinder, style=filled, fillcolor="#dcedc8", color="#558b2f"'
      : 'shape=cylinder, style=filled, fillcolor="#f5f5f5", color="#616161"';
  return `  ${mrNode(mr.name)} [label=${label}, ${style}];`;
}

/**
 * Bus masters passed through (flows.ts 'dma'): each device's registers point to one node for all
 * physical memory, which its DMA reaches (Microkit programs no IOMMU).
 */
function dmaNodes(model: SystemModel): string[] {
  const masters = model.guests.flatMap((g) => g.passthrough.filter((p) => p.dma).map((p) => ({ vm: g.vm, ...p })));
  if (masters.length === 0) return [];
  const all = id('dma:physical-memory');
  const out = ['', '  // Bus masters: their DMA reaches all physical memory (no IOMMU).'];
  out.push(`  ${all} [label=<<b>all physical memory</b><br/><font point-size="9">kernel, every PD, every guest · no IOMMU</font>>, shape=cylinder, style=filled, fillcolor="#ffcdd2", color="#b71c1c"];`);
  for (const m of masters) {
    out.push(`  ${mrNode(m.mr)} -> ${all} [label=${id(`DMA · bus master ${m.device} of ${m.vm}`)}, color="#b71c1c", fontcolor="#b71c1c", penwidth=2.2];`);
  }
  return out;
}

function mapEdge(from: string, m: MapModel): string {
  const perms = ['r', 'w', 'x'].map((p) => (m.perms.includes(p) ? p : '-')).join('');
  // '\n' is DOT's line break inside a label.
  const label = `"${perms}${m.cached ? '' : '\\nuncached'}"`;
  let style = 'color="#757575", fontcolor="#424242"';
  if (m.perms.includes('x')) style = 'color="#c62828", fontcolor="#c62828", penwidth=2.2';
  else if (m.perms.includes('w')) style = 'color="#ef6c00", fontcolor="#e65100", penwidth=1.6';
  return `  ${from} -> ${mrNode(m.mr)} [label=${label}, ${style}];`;
}

export function systemToDot(model: SystemModel): string {
  const out: string[] = [];
  const title = `${model.name}${model.board ? ` (${model.board.name})` : ''}`;
  out.push(`digraph ${id(model.name)} {`);
  out.push(`  graph [rankdir=LR, ranksep=1.1, nodesep=0.35, fontname=${id(FONT)}, fontsize=14, labelloc=t, label=${id(title)}, pad=0.3, bgcolor="white"];`);
  out.push(`  node [fontname=${id(FONT)}, fontsize=11, margin="0.15,0.06"];`);
  out.push(`  edge [fontname=${id(FONT)}, fontsize=9, arrowsize=0.7];`);

  out.push('', '  // Protection domains; a VM sits in a cluster with the VMM PD that runs it.');
  for (const pd of allProtectionDomains(model)) {
    const node = `${pdNode(pd.name)} [label=${pdLabel(pd)}, shape=box, style="rounded,filled", fillcolor="${pd.vmmOf !== undefined || pd.virtualMachine ? '#e1f5fe' : '#e3f2fd'}", color="#1565c0"];`;
    const vm = pd.virtualMachine;
    if (!vm) {
      out.push(`  ${node}`);
      continue;
    }
    out.push(`  subgraph ${id(`cluster_${pd.name}`)} {`);
    out.push(`    label=${id(`VMM ${pd.name} runs VM ${vm.name}`)}; fontsize=10; style="rounded,dashed"; color="#0277bd";`);
    out.push(`    ${node}`);
    const vmLabel = `<<b>${html(vm.name)}</b><br/><font point-size="9">VM · ${vm.vcpus.length} vCPU${vm.vcpus.length === 1 ? '' : 's'} · prio ${vm.priority}</font>>`;
    out.push(`    ${vmNode(vm.name)} [label=${vmLabel}, shape=box3d, style=filled, fillcolor="#e8f5e9", color="#2e7d32"];`);
    out.push(`    ${pdNode(pd.name)} -> ${vmNode(vm.name)} [label="runs", style=dashed, color="#0277bd", fontcolor="#0277bd"];`);
    // Devices the VMM plays for its guest: the guest's accesses trap to the VMM, nothing is mapped.
    for (const e of model.guests.find((g) => g.vm === vm.name)?.emulated ?? []) {
      const node = id(`emu:${vm.name}:${e.device}`);
      out.push(`    ${node} [label=<<b>${html(e.device)}</b><br/><font point-size="9">emulated ${html(e.kind)} @ ${hex(e.gpa)}</font>>, shape=component, style=dashed, color="#e65100"];`);
      out.push(`    ${vmNode(vm.name)} -> ${node} [label="traps to VMM", style=dashed, color="#9e9e9e", fontcolor="#757575"];`);
    }
    out.push('  }');
  }

  out.push('', '  // Memory regions: device memory orange, guest RAM green; the unmapped ones in one table.');
  const mapped = new Set(allProtectionDomains(model).flatMap((pd) => [...pd.maps, ...(pd.virtualMachine?.maps ?? [])].map((m) => m.mr)));
  for (const mr of model.memoryRegions) if (mapped.has(mr.name)) out.push(regionNode(model, mr));
  const unmapped = model.memoryRegions.filter((mr) => !mapped.has(mr.name));
  if (unmapped.length) {
    const rows = unmapped.map((mr) => `<tr><td align="left">${html(mr.name)}</td><td align="right">${humanSize(mr.size)}</td><td align="left">${mr.physAddr === undefined ? '' : `@ ${hex(mr.physAddr)}`}</td></tr>`);
    out.push(`  "unmapped" [shape=plaintext, label=<<table border="1" cellborder="0" cellspacing="0" cellpadding="3" color="#9e9e9e" bgcolor="#fafafa"><tr><td colspan="3"><b>regions mapped nowhere</b></td></tr>${rows.join('')}</table>>];`);
  }

  out.push(...dmaNodes(model));

  out.push('', '  // Mappings, labelled with their rights.');
  for (const pd of allProtectionDomains(model)) {
    for (const m of pd.maps) out.push(mapEdge(pdNode(pd.name), m));
    if (pd.virtualMachine) for (const m of pd.virtualMachine.maps) out.push(mapEdge(vmNode(pd.virtualMachine.name), m));
  }

  out.push('', '  // Child protection domains.');
  for (const pd of allProtectionDomains(model)) {
    for (const c of pd.children) {
      out.push(`  ${pdNode(pd.name)} -> ${pdNode(c.name)} [label=${id(`child ${c.childId ?? ''}`)}, style=dotted, arrowhead=odiamond, color="#455a64", fontcolor="#455a64"];`);
    }
  }

  out.push('', '  // Controllers (control()): a PD that may stop, start and restart a VM.');
  for (const c of model.controls ?? []) {
    out.push(`  ${pdNode(c.by)} -> ${vmNode(c.vm)} [label=${id(`controls (stop, start, restart) · ch ${c.channel.b.id}`)}, color="#6a1b9a", fontcolor="#6a1b9a", penwidth=1.8, style=bold];`);
  }

  out.push('', '  // Channels: pp channels point from the caller; plain ones between one pair of PDs share an edge.');
  const plain = new Map<string, { a: string; b: string; ids: string[] }>();
  for (const ch of model.channels) {
    const [from, to] = ch.b.pp && !ch.a.pp ? [ch.b, ch.a] : [ch.a, ch.b];
    if (from.pp) {
      out.push(`  ${pdNode(from.pd)} -> ${pdNode(to.pd)} [label=${id(`pp · ch ${from.id}:${to.id}`)}, color="#1565c0", fontcolor="#1565c0", style=bold, constraint=false];`);
      continue;
    }
    const key = `${from.pd}\0${to.pd}`;
    const entry = plain.get(key) ?? { a: from.pd, b: to.pd, ids: [] };
    entry.ids.push(`${from.id}:${to.id}`);
    plain.set(key, entry);
  }
  for (const e of plain.values()) {
    out.push(`  ${pdNode(e.a)} -> ${pdNode(e.b)} [label=${id(`ch ${e.ids.join(', ')}`)}, color="#1565c0", fontcolor="#1565c0", style=dashed, dir=none, constraint=false];`);
  }
  out.push('}');
  return out.join('\n') + '\n';
}
