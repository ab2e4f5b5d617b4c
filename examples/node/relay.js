'use strict';
// node relay.js LISTEN_HOST:PORT TARGET_HOST:PORT: a TCP proxy. Each
// connection is carried by two zcopy_splice calls (client -> target and
// target -> client) through zcopy's pipe pool, each on libuv's thread
// pool; at the end of one direction its destination is half-closed
// (shutdown SHUT_WR), and both sockets close when both directions are done.
//
// Every connection holds two pool threads until it ends, so the pool is
// sized here for 32 connections at once (UV_THREADPOOL_SIZE, read when
// the pool starts; 4 by default, which would carry 2).
process.env.UV_THREADPOOL_SIZE = process.env.UV_THREADPOOL_SIZE || '64';

const net = require('net');
const { ALL, SHUT_WR, SHUT_RDWR, fn, onPool, fdOf, failure } = require('./zcopy');

function hostPort(spec) {
    const i = spec.lastIndexOf(':');
    if (i < 0) throw new Error(`${spec}: want HOST:PORT`);
    return { host: spec.slice(0, i) || '127.0.0.1', port: Number(spec.slice(i + 1)) };
}

if (process.argv.length !== 4) {
    console.error('usage: node relay.js LISTEN_HOST:PORT TARGET_HOST:PORT');
    process.exit(2);
}
const listen = hostPort(process.argv[2]);
const target = hostPort(process.argv[3]);

// One direction until EOF or an error; then half-close its destination
// so the peer sees the end of stream. On an error both sockets are shut
// down, which also ends the other direction's splice (it is blocked in
// the kernel on the same sockets, so closing the fds under it would not).
async function carry(dst, src, name, sockets) {
    const r = await onPool(fn.splice, fdOf(dst), fdOf(src), ALL);
    if (r.error === 0) {
        fn.shutdown(fdOf(dst), SHUT_WR);
    } else {
        console.error(`relay: ${name}: ${failure('zcopy_splice', r).message}`);
        for (const s of sockets) fn.shutdown(fdOf(s), SHUT_RDWR);
    }
    return `${r.written} bytes ${name} (${fn.methodName(r.method)}${r.error ? ', ' + failure('', r).code : ''})`;
}

// pauseOnConnect: Node never reads from the client; the upstream socket
// is paused before it connects, so Node never reads from it either.
const server = net.createServer({ pauseOnConnect: true }, (client) => {
    const up = net.connect(target);
    up.pause();
    up.on('error', (e) => {
        console.error(`relay: ${process.argv[3]}: ${e.message}`);
        client.destroy();
        up.destroy();
    });
    up.on('connect', async () => {
        const both = [client, up];
        const done = await Promise.all([
            carry(up, client, 'to target', both),
            carry(client, up, 'to client', both),
        ]);
        console.error(`relay: closed: ${done.join(', ')}`);
        client.destroy();
        up.destroy();
    });
    client.on('error', () => {});
});
server.listen(listen.port, listen.host, () => {
    const a = server.address();
    console.error(`relay: listening on ${a.address}:${a.port}, forwarding to ${process.argv[3]} (zcopy ${fn.version()})`);
});
