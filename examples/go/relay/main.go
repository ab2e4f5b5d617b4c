// relay LISTEN_ADDR:PORT TARGET_ADDR:PORT: a TCP proxy whose two
// directions are each one zcopy_splice call, in a goroutine each; the end
// of one direction half-closes its destination, and both connections close
// when both directions are done.
package main

import (
	"fmt"
	"net"
	"os"
	"syscall"

	"zcopy.example/go/zcopy"
)

// carry moves src to dst until EOF or an error, on the connections' own
// fds. RawConn.Control lends the fd for the length of the call and keeps
// it from being closed under it; the fd stays non-blocking, and zcopy
// waits for it with poll(2) in the cgo call's thread, not in Go's poller.
func carry(dst, src *net.TCPConn) zcopy.Result {
	var r zcopy.Result
	sraw, err := src.SyscallConn()
	if err != nil {
		return zcopy.Result{Err: syscall.EBADF}
	}
	draw, err := dst.SyscallConn()
	if err != nil {
		return zcopy.Result{Err: syscall.EBADF}
	}
	sraw.Control(func(sfd uintptr) {
		draw.Control(func(dfd uintptr) {
			r = zcopy.Splice(int(dfd), int(sfd), zcopy.All)
		})
	})
	if r.Err == 0 {
		dst.CloseWrite()
	} else {
		// Ends the other direction too: it is blocked in the kernel on the
		// same sockets, where closing them would not wake it, shutting
		// them down does.
		fmt.Fprintf(os.Stderr, "relay: %v after %d bytes\n", r.Err, r.Written)
		shutdown(src)
		shutdown(dst)
	}
	return r
}

func shutdown(c *net.TCPConn) {
	if raw, err := c.SyscallConn(); err == nil {
		raw.Control(func(fd uintptr) { syscall.Shutdown(int(fd), syscall.SHUT_RDWR) })
	}
}

func serve(client *net.TCPConn, target string) {
	defer client.Close()
	c, err := net.Dial("tcp", target)
	if err != nil {
		fmt.Fprintf(os.Stderr, "relay: %s: %v\n", target, err)
		return
	}
	up := c.(*net.TCPConn)
	defer up.Close()
	back := make(chan zcopy.Result)
	go func() { back <- carry(client, up) }()
	toTarget := carry(up, client)
	toClient := <-back
	fmt.Fprintf(os.Stderr, "relay: closed: %d bytes to target (%s), %d bytes to client (%s)\n",
		toTarget.Written, toTarget.Method, toClient.Written, toClient.Method)
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: relay LISTEN_ADDR:PORT TARGET_ADDR:PORT")
		os.Exit(2)
	}
	l, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "relay: cannot listen on %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "relay: listening on %s, forwarding to %s (zcopy %s)\n", l.Addr(), os.Args[2], zcopy.Version())
	for {
		c, err := l.Accept()
		if err != nil {
			fmt.Fprintf(os.Stderr, "relay: accept: %v\n", err)
			continue
		}
		go serve(c.(*net.TCPConn), os.Args[2])
	}
}
