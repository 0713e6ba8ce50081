#!/usr/bin/env node
/** The time service: clocks in the cons(3) formats and timers a read blocks on. See README.md. */
import { runMain } from '@prose/service';
import { timeService } from './service.js';

runMain(timeService);
