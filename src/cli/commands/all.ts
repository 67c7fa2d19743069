// Every registered subcommand; add a command here only once it works.
import type { Command } from 'commander';
import type { CommandEnv } from '../context.js';
import * as backups from './backups.js';
import * as config from './config.js';
import * as diff from './diff.js';
import * as indexCmd from './index.js';
import * as mount from './mount.js';
import * as preview from './preview.js';
import * as reconcile from './reconcile.js';
import * as reset from './reset.js';
import * as restore from './restore.js';
import * as run from './run.js';
import * as status from './status.js';
import * as unmount from './unmount.js';
import * as vacuum from './vacuum.js';

export const commands: ReadonlyArray<{ register(program: Command, env: CommandEnv): void }> = [config, mount, unmount, status, run, indexCmd, diff, reconcile, preview, backups, restore, reset, vacuum];
