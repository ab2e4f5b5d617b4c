// relay: a two-way TCP proxy on Go's io.Copy, the peer zcopy's relays are
// measured against. Between two *net.TCPConn, io.Copy splices through Go's
// own pipe pool; -generic hides the fast paths so io.Copy falls back to
// its 32 KiB read/write loop.
//
//	relay [-generic] -listen 127.0.0.1:9000 -to 127.0.0.1:9001
package main

import (
	"flag"
	"io"
	"log"
	"net"
)

var generic = flag.Bool("generic", false, "32 KiB read/write instead of splice")

// plainReader and plainWriter expose only Read and Write, so io.Copy finds
// neither WriterTo nor ReaderFrom and uses its buffer loop.
type plainReader struct{ r io.Reader }
type plainWriter struct{ w io.Writer }

func (p plainReader) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p plainWriter) Write(b []byte) (int, error) { return p.w.Write(b) }

// pump copies src to dst until EOF, then half-closes dst so the peer sees
// the end of this direction.
func pump(dst, src *net.TCPConn, done chan<- struct{}) {
	if *generic {
		io.CopyBuffer(plainWriter{dst}, plainReader{src}, make([]byte, 32<<10))
	} else {
		io.Copy(dst, src)
	}
	dst.CloseWrite()
	done <- struct{}{}
}

func serve(client *net.TCPConn, to string) {
	defer client.Close()
	c, err := net.Dial("tcp", to)
	if err != nil {
		log.Printf("dial %s: %v", to, err)
		return
	}
	upstream := c.(*net.TCPConn)
	defer upstream.Close()
	done := make(chan struct{}, 2)
	go pump(upstream, client, done)
	go pump(client, upstream, done)
	<-done
	<-done
}

func main() {
	listen := flag.String("listen", "127.0.0.1:9000", "address to accept on")
	to := flag.String("to", "127.0.0.1:9001", "address to connect each connection to")
	flag.Parse()
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	for {
		c, err := l.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serve(c.(*net.TCPConn), *to)
	}
}
