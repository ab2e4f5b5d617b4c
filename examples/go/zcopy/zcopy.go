// Package zcopy calls libzcopy from Go through cgo. pkg-config finds the
// library and header (`make install` puts zcopy.pc under
// $PREFIX/lib/pkgconfig; point PKG_CONFIG_PATH at it for another prefix).
//
// Go's own io.Copy already splices between TCP connections; this package
// is for Go programs that share zcopy with code in other languages, or want
// its pipe pool, its dispatch for any two fds, or its splicer.
package zcopy

// #cgo pkg-config: zcopy
// #include <zcopy.h>
import "C"

import (
	"fmt"
	"math"
	"syscall"
)

// All is ZCOPY_ALL: move until end of file.
const All = math.MaxInt64

// Result is a zcopy_result: the bytes that reached dst (also when Err is
// set), the errno that ended the transfer (0 for none), the method that
// moved the bytes, and whether the mechanism could serve the fd pair at
// all (false: nothing was consumed, fall back).
type Result struct {
	Written int64
	Err     syscall.Errno
	Method  string
	Handled bool
}

func (r Result) String() string {
	return fmt.Sprintf("%d bytes by %s (errno %d, handled %v)", r.Written, r.Method, int(r.Err), r.Handled)
}

func result(r C.zcopy_result) Result {
	return Result{
		Written: int64(r.written),
		Err:     syscall.Errno(r.error),
		Method:  C.GoString(C.zcopy_method_name(r.method)),
		Handled: bool(r.handled),
	}
}

// Copy is zcopy_copy: the best mechanism for the fd pair, with fallbacks.
// It blocks until done; cgo gives the call its own thread meanwhile, so
// other goroutines keep running.
func Copy(dst, src int, remain int64) Result {
	return result(C.zcopy_copy(C.int(dst), C.int(src), C.int64_t(remain)))
}

// Splice is zcopy_splice: socket to socket through a pooled pipe.
func Splice(dst, src int, remain int64) Result {
	return result(C.zcopy_splice(C.int(dst), C.int(src), C.int64_t(remain)))
}

// Version is zcopy_version.
func Version() string {
	return C.GoString(C.zcopy_version())
}
