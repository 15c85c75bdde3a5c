package main

// Counting seat-map viewers for benchmarks/fanout (the Python twin is benchmarks/viewers.py):
//
//	loadgen viewers PORT ROUND_ID COUNT   prints "ready <open>", then answers "report" lines on stdin
//	                                      with {"open": n, "bytes": b}; exits on "quit" or end of input.

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

func view(addr, path string, ready *sync.WaitGroup, gate chan struct{}) {
	gate <- struct{}{}
	conn, reader, err := dialSocket(addr, path)
	<-gate
	ready.Done()
	if err != nil {
		return
	}
	defer conn.Close()
	open.Add(1)
	buf := make([]byte, 64*1024)
	for {
		n, err := reader.Read(buf) // bytes only: what the viewer is sent, not parsed
		if err != nil {
			open.Add(-1)
			return
		}
		received.Add(int64(n))
	}
}

func viewers(port, round, countText string) {
	count, _ := strconv.Atoi(countText)
	var ready sync.WaitGroup
	gate := make(chan struct{}, 200) // connecting at once
	ready.Add(count)
	for i := 0; i < count; i++ {
		go view("127.0.0.1:"+port, "/ws/rounds/"+round, &ready, gate)
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
