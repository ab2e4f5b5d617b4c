// filecopy: copies SRC to DST with io.Copy, the peer of zcopy_copy between
// files. From one *os.File to another io.Copy uses copy_file_range(2)
// (falling back inside Go when the kernel refuses); -generic hides that
// path (32 KiB read/write).
//
//	filecopy [-generic] SRC DST
package main

import (
	"flag"
	"io"
	"log"
	"os"
)

type plainReader struct{ r io.Reader }
type plainWriter struct{ w io.Writer }

func (p plainReader) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p plainWriter) Write(b []byte) (int, error) { return p.w.Write(b) }

func main() {
	generic := flag.Bool("generic", false, "32 KiB read/write instead of copy_file_range")
	flag.Parse()
	if flag.NArg() != 2 {
		log.Fatal("usage: filecopy [-generic] SRC DST")
	}
	src, err := os.Open(flag.Arg(0))
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(flag.Arg(1))
	if err != nil {
		log.Fatal(err)
	}
	if *generic {
		_, err = io.CopyBuffer(plainWriter{dst}, plainReader{src}, make([]byte, 32<<10))
	} else {
		_, err = io.Copy(dst, src)
	}
	if err != nil {
		log.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		log.Fatal(err)
	}
}
