'use strict';
// zcopy from Node.js through koffi (npm install koffi): the C ABI declared
// once, with the two things a JavaScript caller must get right.
//
// - int64_t arguments: koffi takes a Number or a BigInt. ZCOPY_ALL is
//   INT64_MAX, which no Number can hold: pass the BigInt ALL below.
//   `Infinity` is converted to 0, and a transfer of 0 bytes succeeds
//   having moved nothing.
// - Blocking calls: zcopy's transfers block until done (they wait with
//   poll(2) on a non-blocking fd). Called plainly they block the event
//   loop; called with `fn.async(...)` they run on libuv's thread pool,
//   which has 4 threads unless UV_THREADPOOL_SIZE says otherwise. A relay
//   holds one thread per direction for the whole connection, so size the
//   pool for the connections you carry (serve.js and relay.js do), or drive
//   the non-blocking splicer (zcopy_splicer_*) from your own loop instead.

const koffi = require('koffi');
const os = require('os');

// ZCOPY_LIBRARY names the library to load; otherwise the loader's search
// path (an installed libzcopy.so.0, or LD_LIBRARY_PATH).
function loadZcopy() {
    const name = process.env.ZCOPY_LIBRARY || 'libzcopy.so.0';
    try {
        return koffi.load(name);
    } catch (e) {
        // koffi's own message names only the file: say what was looked for
        // and how to point at it.
        throw new Error(`cannot load ${name} (${e.message}): install libzcopy ` +
            '(sudo make install, the .deb or the release tarball; see README.md) ' +
            'or set ZCOPY_LIBRARY to the path of libzcopy.so.0');
    }
}
const lib = loadZcopy();
const libc = koffi.load('libc.so.6');

// struct zcopy_result: 24 bytes; written at 0, error at 8, method at 12,
// handled (a C99 bool) at 16, then 7 reserved bytes that are always 0.
const Result = koffi.struct('zcopy_result', {
    written: 'int64_t',
    error: 'int32_t',
    method: 'int32_t',
    handled: 'bool',
});
if (koffi.sizeof(Result) !== 24 || koffi.offsetof(Result, 'handled') !== 16) {
    throw new Error('zcopy_result layout differs from the header');
}

const ALL = 0x7fffffffffffffffn; // ZCOPY_ALL

const fn = {
    copy: lib.func('zcopy_result zcopy_copy(int dst_fd, int src_fd, int64_t remain)'),
    splice: lib.func('zcopy_result zcopy_splice(int dst_fd, int src_fd, int64_t remain)'),
    // *src_offset is read and advanced by the bytes sent: an array of one
    // element carries it in and out.
    sendfileAt: lib.func(
        'zcopy_result zcopy_sendfile_at(int dst_fd, int src_fd, _Inout_ int64_t *src_offset, int64_t remain)'),
    methodName: lib.func('const char *zcopy_method_name(int32_t method)'),
    version: lib.func('const char *zcopy_version(void)'),
    shutdown: libc.func('int shutdown(int fd, int how)'),
};

const SHUT_WR = 1;
const SHUT_RDWR = 2;

const errnoNames = {};
for (const [name, value] of Object.entries(os.constants.errno)) errnoNames[value] = name;

// An Error for a result whose `error` is set, with the errno's name as
// `code` and the bytes that reached dst first as `written`.
function failure(what, r) {
    const e = new Error(`${what}: ${errnoNames[r.error] || 'errno ' + r.error} after ${r.written} bytes`);
    e.code = errnoNames[r.error];
    e.errno = r.error;
    e.written = r.written;
    return e;
}

// Runs a zcopy call on libuv's thread pool; resolves with the result.
function onPool(f, ...args) {
    return new Promise((resolve, reject) => {
        f.async(...args, (err, r) => (err ? reject(err) : resolve(r)));
    });
}

// The fd under a net.Socket (libuv's handle; Linux only, as zcopy is).
function fdOf(socket) {
    const fd = socket._handle && socket._handle.fd;
    if (typeof fd !== 'number' || fd < 0) throw new Error('socket has no fd');
    return fd;
}

module.exports = { ALL, SHUT_WR, SHUT_RDWR, fn, failure, onPool, fdOf, Result };
