// Every registered subcommand; add a command here only once it works.
import type { Command } from 'commander';
import type { CommandEnv } from '../program.js';
import * as config from './config.js';

export const commands: ReadonlyArray<{ register(program: Command, env: CommandEnv): void }> = [config];
