'use strict';
// node serve.js FILE [PORT]: serves FILE over HTTP/1.1 on 127.0.0.1 (every
// path gets the file; Range: bytes=A-B, A- and -N are answered with 206).
// The file is opened once; every response sends from its own offset with
// zcopy_sendfile_at, which never moves the shared fd's position, on
// libuv's thread pool so the event loop keeps accepting.
//
// Each response in flight holds a pool thread for as long as the client
// takes to read it; the pool is sized here, before anything uses it.
process.env.UV_THREADPOOL_SIZE = process.env.UV_THREADPOOL_SIZE || '32';

const fs = require('fs');
const net = require('net');
const { fn, failure, onPool, fdOf } = require('./zcopy');

if (process.argv.length < 3 || process.argv.length > 4) {
    console.error('usage: node serve.js FILE [PORT]');
    process.exit(2);
}
const file = process.argv[2];
const fileFd = fs.openSync(file, 'r');
const size = fs.fstatSync(fileFd).size;

// [start, end] (inclusive) for a Range header, null for none, or 'bad'.
function range(header) {
    if (header === undefined) return null;
    const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
    if (!m || (m[1] === '' && m[2] === '')) return 'bad';
    let start, end;
    if (m[1] === '') {
        start = Math.max(0, size - Number(m[2]));
        end = size - 1;
    } else {
        start = Number(m[1]);
        end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    }
    return start > end || start >= size ? 'bad' : [start, end];
}

async function respond(socket, head) {
    const lines = head.split('\r\n');
    const headers = {};
    for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1);
    }
    const r = range(headers.range);
    if (r === 'bad') {
        socket.end(`HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */${size}\r\n` +
            'Content-Length: 0\r\nConnection: close\r\n\r\n');
        return;
    }
    const [start, end] = r || [0, size - 1];
    const len = size === 0 ? 0 : end - start + 1;
    let status = 'HTTP/1.1 200 OK\r\n';
    if (r) status = `HTTP/1.1 206 Partial Content\r\nContent-Range: bytes ${start}-${end}/${size}\r\n`;
    const isHead = lines[0].startsWith('HEAD ');
    // The write callback runs once the header is in the kernel: the body
    // then goes straight from the file to the socket behind it.
    await new Promise((resolve, reject) => socket.write(
        `${status}Content-Length: ${len}\r\nConnection: close\r\n\r\n`, (e) => (e ? reject(e) : resolve())));
    if (!isHead && len > 0) {
        const offset = [BigInt(start)];
        const res = await onPool(fn.sendfileAt, fdOf(socket), fileFd, offset, BigInt(len));
        if (res.error !== 0 || res.written !== len) {
            console.error(`serve: ${failure('zcopy_sendfile_at', res).message}`);
            socket.destroy();
            return;
        }
        console.error(`serve: sent ${start}-${end} (${res.written} bytes, ${fn.methodName(res.method)})`);
    }
    socket.end();
}

const server = net.createServer((socket) => {
    let head = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => {
        head += chunk;
        const at = head.indexOf('\r\n\r\n');
        if (at < 0) return;
        // No more reads by Node: from here on the socket's fd is written
        // by zcopy only.
        socket.pause();
        socket.removeAllListeners('data');
        respond(socket, head.slice(0, at)).catch((e) => {
            console.error(`serve: ${e.message}`);
            socket.destroy();
        });
    });
    socket.on('error', () => socket.destroy());
});
server.listen(Number(process.argv[3] || 0), '127.0.0.1', () => {
    const a = server.address();
    console.error(`serve: ${file} (${size} bytes) on ${a.address}:${a.port} (zcopy ${fn.version()})`);
});
