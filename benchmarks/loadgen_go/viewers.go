// Counting seat-map viewers for benchmarks/fanout, in Go so that ten thousand of them cost the
// load generator little CPU (the Python one in benchmarks/viewers.py competes with the server
// for the same two cores). Same protocol as benchmarks/viewers.py:
//
//	viewers PORT ROUND_ID COUNT   prints "ready <open>", then answers "report" lines on stdin
//	                              with {"open": n, "bytes": b}; exits on "quit" or end of input.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
)

var received, open atomic.Int64

func view(port, round string, ready *sync.WaitGroup, gate chan struct{}) {
	gate <- struct{}{}
	conn, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		<-gate
		ready.Done()
		return
	}
	fmt.Fprintf(conn, "GET /ws/rounds/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"+
		"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", round)
	buf := make([]byte, 64*1024)
	head := []byte{}
	for {
		n, err := conn.Read(buf)
		if err != nil {
			<-gate
			ready.Done()
			return
		}
		head = append(head, buf[:n]...)
		if end := bytes.Index(head, []byte("\r\n\r\n")); end >= 0 {
			if bytes.HasPrefix(head, []byte("HTTP/1.1 101")) {
				open.Add(1)
			}
			received.Add(int64(len(head) - end - 4))
			break
		}
	}
	<-gate
	ready.Done()
	for {
		n, err := conn.Read(buf)
		if err != nil {
			open.Add(-1)
			return
		}
		received.Add(int64(n))
	}
}

func main() {
	port, round := os.Args[1], os.Args[2]
	count, _ := strconv.Atoi(os.Args[3])
	var ready sync.WaitGroup
	gate := make(chan struct{}, 200) // connecting at once
	ready.Add(count)
	for i := 0; i < count; i++ {
		go view(port, round, &ready, gate)
	}
	ready.Wait()
	fmt.Printf("ready %d\n", open.Load())
	lines := bufio.NewScanner(os.Stdin)
	for lines.Scan() {
		if lines.Text() == "quit" {
			return
		}
		report, _ := json.Marshal(map[string]int64{"open": open.Load(), "bytes": received.Load()})
		fmt.Println(string(report))
	}
}
