#!/usr/bin/env node
/** The cons service: per-partition consoles after Plan 9 cons(3). See README.md. */
import { runMain } from '@prose/service';
import { consService } from './service.js';

runMain(consService);
