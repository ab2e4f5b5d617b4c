// copy SRC DST: copies a file with zcopy_copy and names the method.
package main

import (
	"fmt"
	"os"

	"zcopy.example/go/zcopy"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: copy SRC DST")
		os.Exit(2)
	}
	in, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "copy: %v\n", err)
		os.Exit(1)
	}
	defer in.Close()
	out, err := os.OpenFile(os.Args[2], os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		fmt.Fprintf(os.Stderr, "copy: %v\n", err)
		os.Exit(1)
	}
	defer out.Close()
	r := zcopy.Copy(int(out.Fd()), int(in.Fd()), zcopy.All)
	if r.Err != 0 {
		fmt.Fprintf(os.Stderr, "copy: %s -> %s: %v after %d bytes\n", os.Args[1], os.Args[2], r.Err, r.Written)
		os.Exit(1)
	}
	fmt.Printf("copied %d bytes from %s to %s with %s (zcopy %s)\n", r.Written, os.Args[1], os.Args[2], r.Method, zcopy.Version())
}
