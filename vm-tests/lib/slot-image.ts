// The A/B slots of an image-based host: read-only root images made by the documented image build
// (docs/image-build.md): the .deb installed into the image root, /opt's content in the image itself,
// `index --ship opt` and `systemctl --root enable`, the preset checked to enable the same.
import fs from 'node:fs';
import path from 'node:path';
import { run } from '../../src/exec.js';
import { updateTree, type BaseSpec } from './bases.js';
import { cached, hashOf, pruneOthers } from './cache.js';
import { LABEL, agentFiles, enableAgent, filesKey, writeFiles, type GuestFile } from './guest-files.js';
import { ROOT_ARGS, composefsInitrd, erofsRoot } from './composefs.js';
import { imageOf, installedTree, installedTreeKey, projectDeb, splitDisks, type GuestImage, type ProjectDeb } from './image.js';

export interface SlotSpec {
  /** The version the slot's build of the tool has: its .deb is built with it. */
  readonly version: string;
  /** The content the image ships in /opt (the overlay's default Base=, the mountpoint's own directory). */
  readonly opt: BaseSpec;
  /** The image's configuration of /opt, as a vendor drop-in (/usr/lib/state-overlay/opt.conf.d/). */
  readonly conf: string;
  /** False: the image ships no manifest (the build step left out: a deliberately broken image). */
  readonly ship: boolean;
  /**
   * A composefs-like root (lib/composefs.ts): the root disk is erofs and the initramfs mounts overlays
   * over it as the root; `detachLayers`: it unmounts their layers lazily after (a deliberately broken image).
   */
  readonly composefs?: { readonly detachLayers: boolean };
}

/** The host's identity, the same in both slots: a read-only root cannot commit one systemd makes at first boot. */
const MACHINE_ID = '5a0b5e7e1d2c4f60a1b2c3d4e5f60718\n';

/**
 * The root is mounted read-only (never fsck'd: nothing may write it, as a dm-verity or composefs root);
 * /var is the host's own disk, shared by both slots; /tmp is a tmpfs, as image-based hosts mount it.
 */
const SLOT_FSTAB = `# VM suite A/B slot
LABEL=${LABEL.root} / ext4 ro 0 0
LABEL=${LABEL.var} /var ext4 rw 0 2
tmpfs /tmp tmpfs mode=1777,nosuid,nodev 0 0
`;

/** A composefs-like root is the initramfs's overlay, not in fstab (nothing for systemd to remount or fsck). */
const COMPOSEFS_FSTAB = SLOT_FSTAB.replace(/^LABEL=\S+ \/ .*\n/m, '');

const UNIT = 'state-overlay@opt.service';

function slotFiles(spec: SlotSpec): GuestFile[] {
  return [
    { path: 'etc/fstab', data: spec.composefs === undefined ? SLOT_FSTAB : COMPOSEFS_FSTAB, mode: 0o644 },
    { path: 'etc/machine-id', data: MACHINE_ID, mode: 0o444 },
    ...agentFiles(),
    { path: 'usr/lib/state-overlay/opt.conf.d/50-image.conf', data: spec.conf, mode: 0o644 },
  ];
}

/** The unit links under ROOT/etc/systemd/system, sorted `LINK -> TARGET`. */
function unitLinks(root: string): string[] {
  const dir = path.join(root, 'etc/systemd/system');
  const links: string[] = [];
  for (const wants of fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const f of fs.readdirSync(path.join(dir, wants.name)).filter((f) => f.startsWith('state-overlay@'))) {
      links.push(`${wants.name}/${f} -> ${fs.readlinkSync(path.join(dir, wants.name, f))}`);
    }
  }
  return links.sort();
}

/**
 * Step 3 of the image build: `systemctl --root enable` of the unit; the shipped preset, applied first
 * (`systemctl --root preset`), must make exactly the same links, or the build fails.
 */
async function enableUnit(root: string): Promise<void> {
  await run('systemctl', ['--root', root, 'preset', 'state-overlay@.service']);
  const preset = unitLinks(root);
  await run('systemctl', ['--root', root, 'disable', UNIT]);
  const left = unitLinks(root);
  if (left.length > 0) throw new Error(`${root}: systemctl disable ${UNIT} left ${left.join(', ')}`);
  await run('systemctl', ['--root', root, 'enable', UNIT]);
  const enabled = unitLinks(root);
  if (enabled.length === 0 || enabled.join('\n') !== preset.join('\n')) {
    throw new Error(`${root}: the shipped preset made [${preset.join(', ')}], systemctl enable ${UNIT} made [${enabled.join(', ')}]`);
  }
}

async function buildSlot(out: string, spec: SlotSpec, deb: ProjectDeb): Promise<void> {
  const stage = path.join(out, 'stage');
  // 1. install: the package into the image root
  await installedTree(stage, deb);
  writeFiles(stage, slotFiles(spec));
  enableAgent(stage);
  updateTree(path.join(stage, 'opt'), spec.opt);
  // 2. ship the manifest, after the last step that changes /opt: the image's own build of the tool, from outside
  if (spec.ship) await run(path.join(stage, 'usr/bin/state-overlay'), ['--root', stage, 'index', '--ship', 'opt']);
  // 3. enable the unit
  await enableUnit(stage);
  if (spec.composefs === undefined) return splitDisks(stage, out);
  // the initramfs step first: splitDisks removes the stage, kernel tree and all
  await composefsInitrd(stage, path.join(out, 'initrd.composefs'), spec.composefs.detachLayers);
  await splitDisks(stage, out, erofsRoot);
  fs.renameSync(path.join(out, 'initrd.composefs'), path.join(out, 'initrd.img'));
}

/** The slot NAME's image, cached by everything it is made of. */
async function slotImage(name: string, spec: SlotSpec): Promise<GuestImage> {
  const deb = await projectDeb(spec.version);
  const kind = `slot-${name}`;
  // a composefs root adds its spec and the code of its initramfs step
  const composefs = spec.composefs === undefined ? [] : [JSON.stringify(spec.composefs), { file: path.join(import.meta.dirname, 'composefs.ts') }];
  const key = hashOf([installedTreeKey(deb), ...filesKey(slotFiles(spec)), JSON.stringify(spec.opt), String(spec.ship), { file: path.join(import.meta.dirname, 'slot-image.ts') }, ...composefs]);
  const dir = await cached(kind, key, (out) => buildSlot(out, spec, deb));
  pruneOthers(kind, key);
  return imageOf(dir, true, spec.composefs === undefined ? undefined : ROOT_ARGS);
}

/** Every slot of a scenario, by name, in the order given. */
export async function slotImages(slots: Readonly<Record<string, SlotSpec>>): Promise<Map<string, GuestImage>> {
  const images = new Map<string, GuestImage>();
  for (const [name, spec] of Object.entries(slots)) images.set(name, await slotImage(name, spec));
  return images;
}
