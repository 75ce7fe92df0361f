#!/usr/bin/env node
// Docker credential helper entry. Kept tiny: the helper's start-up is on the hot path of every pull.
import { helperMain } from '../src/ecr/helper-main.js';

process.exitCode = await helperMain(process.argv.slice(2));
