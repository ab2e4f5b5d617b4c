// sendfile: sends FILE to a TCP sink N times with io.Copy, the peer of
// zcopy_sendfile. From an *os.File to a *net.TCPConn io.Copy uses
// sendfile(2); -generic hides that path (32 KiB read/write). The sink is a
// goroutine in this process that reads and discards, so the whole
// process's CPU time covers both ends, as it does for zcopy's variant.
//
//	sendfile [-generic] -n N FILE
package main

import (
	"flag"
	"io"
	"log"
	"net"
	"os"
)

type plainReader struct{ r io.Reader }
type plainWriter struct{ w io.Writer }

func (p plainReader) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p plainWriter) Write(b []byte) (int, error) { return p.w.Write(b) }

func main() {
	generic := flag.Bool("generic", false, "32 KiB read/write instead of sendfile")
	n := flag.Int("n", 1, "times to send the file")
	flag.Parse()
	if flag.NArg() != 1 {
		log.Fatal("usage: sendfile [-generic] -n N FILE")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	drained := make(chan int64)
	go func() {
		c, err := l.Accept()
		if err != nil {
			log.Fatal(err)
		}
		got, _ := io.CopyBuffer(io.Discard, plainReader{c}, make([]byte, 256<<10))
		drained <- got
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	conn := c.(*net.TCPConn)
	var sent int64
	for i := 0; i < *n; i++ {
		f, err := os.Open(flag.Arg(0))
		if err != nil {
			log.Fatal(err)
		}
		var k int64
		if *generic {
			k, err = io.CopyBuffer(plainWriter{conn}, plainReader{f}, make([]byte, 32<<10))
		} else {
			k, err = io.Copy(conn, f)
		}
		f.Close()
		if err != nil {
			log.Fatal(err)
		}
		sent += k
	}
	conn.CloseWrite()
	if got := <-drained; got != sent {
		log.Fatalf("sent %d bytes, the sink read %d", sent, got)
	}
}
