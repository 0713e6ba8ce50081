#!/usr/bin/env node
// A small peer for the process tests: requires the built package (npx tsc -b first).
//   peer.js serve <addr> [mode]     echo every frame back on every channel; prints "listening <addr>"
//   peer.js serve-slow <addr> <ms>  the same, each echo <ms> late
//   peer.js serve-hostile <addr>    5 ms after the first frame of a channel, corrupt the head word of its
//                                   reply ring (late enough that a dialer with blockUs is blocked by then)
//   peer.js dial <addr> <mode>      dial, print "connected <mode>", echo frames back
//   peer.js hostile <addr> <what>   dial, then corrupt the segment (what: head|tail|record|slot|size|fuzz)
//   peer.js hang <addr>             listen, accept, never answer the hello (handshake timeout)
// stdin "exit\n" ends it cleanly; the parent may also SIGKILL it.
'use strict';
const path = require('node:path');
const shm = require(path.join(__dirname, '..', 'dist', 'index.js'));

const [cmd, addr, arg] = process.argv.slice(2);
const live = new Set();
const echo = (c) => {
  live.add(c);
  c.start({ frame: (f) => c.send(f), close: () => live.delete(c) });
};

process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  if (d.includes('exit')) process.exit(0);
  if (d.includes('gc') && global.gc) gcReport(3);
});

// Weak wrappers of closed watchers release their callbacks in a GC's weak phase, so the
// segments they reach are collected by a later GC: collect a few times before counting.
function gcReport(rounds) {
  global.gc();
  if (rounds > 1) return setTimeout(() => gcReport(rounds - 1), 20);
  const maps = require('node:fs').readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('memfd:prose-shm')).length;
  process.stdout.write(`maps ${maps} live ${live.size}\n`);
}
process.stdin.on('end', () => process.exit(0));

async function main() {
  if (cmd === 'serve') {
    await shm.listenShm(addr, echo, arg ? { mode: arg } : {});
    process.stdout.write(`listening ${addr}\n`);
  } else if (cmd === 'serve-slow') {
    await shm.listenShm(addr, (c) => {
      live.add(c);
      c.start({ frame: (f) => { const copy = Buffer.from(f); setTimeout(() => c.send(copy), Number(arg)); }, close: () => live.delete(c) });
    });
    process.stdout.write(`listening ${addr}\n`);
  } else if (cmd === 'serve-hostile') {
    await shm.listenShm(addr, (c) => {
      c.start({
        frame: () => {
          setTimeout(() => {
            const ep = c['ep'];
            Atomics.store(new Int32Array(ep.sab, 0, 1024), 5 * 16, 123457); // ring 0's head: not aligned, beyond the ring
            ep.ringPeer();
            process.stdout.write('corrupted\n');
          }, 5);
        },
        close: () => {},
      });
    });
    process.stdout.write(`listening ${addr}\n`);
  } else if (cmd === 'dial') {
    const c = await shm.dialShm(addr, { mode: arg || 'notify' });
    echo(c);
    process.stdout.write(`connected ${c.mode}\n`);
  } else if (cmd === 'noaddon') {
    // run with PROSE_SHM_ADDON pointing nowhere: process mode fails clearly, thread mode works
    try {
      await shm.dialShm(addr);
    } catch (err) {
      process.stdout.write(`dial ${err.reason} ${err.code}: ${err.message}\n`);
    }
    const [a, b] = shm.shmPair({ mode: 'notify' });
    b.start({ frame: (f) => b.send(f), close: () => {} });
    a.start({ frame: (f) => { process.stdout.write(`pair ok ${f.length} addon ${shm.haveAddon()}\n`); a.close(); }, close: () => {} });
    a.send(Buffer.from([7, 0, 0, 0, 100, 0, 0]));
  } else if (cmd === 'hostile') {
    const c = await shm.dialShm(addr, { mode: 'notify', ringSize: 4096, slotCount: 2, slotSize: 4096 });
    c.start({ frame: () => {}, close: () => {} });
    const ep = c['ep'];
    const w = new Int32Array(ep.sab, 0, 1024);
    const ring = Buffer.from(ep.sab, 4096 + 4096, 4096); // ring 1: side 1 → side 0
    const HEAD1 = (5 + 4) * 16, TAIL0 = 6 * 16;
    const publish = (bytes) => { Atomics.store(w, HEAD1, (Atomics.load(w, HEAD1) + bytes) | 0); Atomics.add(w, 4 * 16, 0); };
    switch (arg) {
      case 'head': Atomics.store(w, HEAD1, 123457); break; // not aligned, beyond the ring
      case 'tail': Atomics.store(w, TAIL0, 99999 * 8); break; // consumer tail of the other ring past its head
      case 'record': ring.writeUInt32LE(1 << 30, 0); ring.writeUInt32LE(1, 4); publish(16); break; // length past the end
      case 'slot': ring.writeUInt32LE(12, 0); ring.writeUInt32LE(5, 4); ring.writeUInt32LE(7, 8); ring.writeUInt32LE(0, 12); ring.writeUInt32LE(100, 16); publish(24); break; // slot index out of range
      case 'size': ring.writeUInt32LE(16, 0); ring.writeUInt32LE(1, 4); ring.writeUInt32LE(9999, 8); publish(24); break; // frame size field lies
      case 'kind': ring.writeUInt32LE(8, 0); ring.writeUInt32LE(77, 4); publish(16); break;
      default: throw new Error(`unknown corruption ${arg}`);
    }
    // Ring side 0's doorbell so it looks now (a real peer would; a sleeping side also times out never).
    ep.ringPeer();
    // For a corrupt tail, an innocent frame makes the other side echo, and so look at its tail.
    // (Not for the other cases: our own send would overwrite the forged record.)
    if (arg === 'tail') c.send(Buffer.from([7, 0, 0, 0, 100, 0, 0]));
    process.stdout.write('corrupted\n');
  } else {
    throw new Error(`unknown command ${cmd}`);
  }
}
main().catch((err) => {
  process.stderr.write(`peer: ${err.stack}\n`);
  process.exit(2);
});
