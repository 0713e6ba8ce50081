#!/usr/bin/env node
/** The net gateway: `node services/net/dist/main.js --help` lists its options. */
import { runMain } from '@prose/service';
import { netService } from './service.js';

runMain(netService);
