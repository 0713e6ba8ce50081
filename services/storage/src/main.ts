#!/usr/bin/env node
/** The storage service: `node dist/main.js --export DIR [--listen tcp!0.0.0.0!564] ...` (see README). */
import './threadpool.js';
import { runMain } from '@prose/service';
import { storageService } from './service.js';

runMain(storageService);
