package main

// Counting viewers for benchmarks/fanout and benchmarks/compare (the Python twin is benchmarks/viewers.py):
//
//	loadgen viewers PORT ROUND_ID COUNT                Ticket Blue seat-map viewers
//	loadgen viewers --centrifugo PORT CHANNEL COUNT    Centrifugo subscribers of one channel
//
// Each prints "ready <open>", then answers "report" lines on stdin with {"open": n, "bytes": b}
// (bytes: every frame received, headers included); exits on "quit" or end of input. A viewer reads
// every frame but parses none, except to answer the server's pings.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
)

var received, open atomic.Int64

func view(t target, addr string, ready *sync.WaitGroup, gate chan struct{}) {
	gate <- struct{}{}
	conn, reader, err := t.dial(addr)
	<-gate
	ready.Done()
	if err != nil {
		return
	}
	defer conn.Close()
	open.Add(1)
	defer open.Add(-1)
	payload := make([]byte, 0, 4096)
	for {
		var opcode byte
		payload, opcode, err = readFrame(reader, payload)
		if err != nil || opcode == 0x8 {
			return
		}
		received.Add(int64(wireSize(len(payload))))
		if t.keepAlive(conn, opcode, payload) != nil {
			return
		}
	}
}

func viewers(args []string) {
	t := target{}
	if args[0] == "--centrifugo" {
		args = args[1:]
		t = centrifugo(args[1])
	} else {
		t = ticketBlue(args[1])
	}
	count, _ := strconv.Atoi(args[2])
	var ready sync.WaitGroup
	gate := make(chan struct{}, 200) // connecting at once
	ready.Add(count)
	for i := 0; i < count; i++ {
		go view(t, "127.0.0.1:"+args[0], &ready, gate)
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
