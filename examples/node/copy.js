'use strict';
// node copy.js SRC DST: copies a file with zcopy_copy (copy_file_range
// between files, or the fallback it takes) and names the method.
const fs = require('fs');
const { ALL, fn, failure } = require('./zcopy');

if (process.argv.length !== 4) {
    console.error('usage: node copy.js SRC DST');
    process.exit(2);
}
const [src, dst] = process.argv.slice(2);
let inFd, outFd;
try {
    inFd = fs.openSync(src, 'r');
    outFd = fs.openSync(dst, 'w', fs.fstatSync(inFd).mode & 0o777);
} catch (e) {
    console.error(`copy: ${e.message}`);
    process.exit(1);
}
// A plain call: it blocks this thread until the copy is done, which is
// what a command-line tool wants.
const r = fn.copy(outFd, inFd, ALL);
fs.closeSync(inFd);
fs.closeSync(outFd);
if (r.error !== 0) {
    console.error(`copy: ${src} -> ${dst}: ${failure('zcopy_copy', r).message}`);
    process.exit(1);
}
console.log(`copied ${r.written} bytes from ${src} to ${dst} with ${fn.methodName(r.method)}`);
