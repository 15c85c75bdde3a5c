package main

// Counting viewers for benchmarks/fanout and benchmarks/compare (the Python twin is benchmarks/viewers.py):
//
//	loadgen viewers PORT ROUND_ID COUNT                Ticket Blue seat-map viewers
//	loadgen viewers --centrifugo PORT CHANNEL COUNT    Centrifugo subscribers of one channel
//
// Each prints "ready <open>", then answers "report" lines on stdin with {"open": n, "bytes": b}
// (bytes: every frame received, headers included); exits on "quit" or end of input. A viewer reads
// every frame but parses no payload, except to answer the server's pings.
//
// The sockets are polled, not waited on: one loop takes what is ready from an epoll instance that
// no thread ever sleeps in, reads each of those sockets once, and sleeps pollInterval when that was
// all. On loopback the sender's send() runs the receiver's side of TCP too, waking whoever sleeps on
// the socket included: with a goroutine per viewer asleep in Go's poller, that wakeup
// (sock_def_readable) was 12% of Ticket Blue's samples at 10,000 viewers, 6% polled, and the load
// generators took 81-85% of a core instead of 57-65%. A server on a network never pays for its
// clients' wakeups, and both servers are measured alike. (Probes wait as usual: they are timed.)

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const pollInterval = time.Millisecond

var received, open atomic.Int64

// A polled viewer's socket, and where its stream of server frames stands.
type polledViewer struct {
	fd        int
	target    target
	head      []byte // the header of the next frame, as far as it has come
	opcode    byte
	remaining uint64 // the current frame's payload bytes still to come
	inPayload bool
	keep      bool   // the payload is kept: a ping, or a Centrifugo text frame (it may hold one)
	payload   []byte // (kept)
}

// feed takes bytes read from the socket; false when the viewer is done (a close frame, or a
// reply that could not be written).
func (v *polledViewer) feed(data []byte) bool {
	for len(data) > 0 {
		if v.inPayload {
			n := min(uint64(len(data)), v.remaining)
			if v.keep {
				v.payload = append(v.payload, data[:n]...)
			}
			data, v.remaining = data[n:], v.remaining-n
			if v.remaining == 0 && !v.frameDone() {
				return false
			}
			continue
		}
		v.head = append(v.head, data[0])
		data = data[1:]
		if len(v.head) < 2 || len(v.head) < headerLength(v.head[1]) {
			continue
		}
		size := payloadSize(v.head)
		v.opcode, v.remaining, v.head = v.head[0]&0x0f, size, v.head[:0]
		if v.opcode == 0x8 {
			return false
		}
		v.keep = v.opcode == 0x9 || (v.target.centrifugo && v.opcode == 0x1)
		v.payload, v.inPayload = v.payload[:0], true
		if size == 0 && !v.frameDone() {
			return false
		}
	}
	return true
}

func (v *polledViewer) frameDone() bool {
	v.inPayload = false
	if reply := v.target.keepAliveReply(v.opcode, v.payload); reply != nil {
		if _, err := syscall.Write(v.fd, reply); err != nil {
			return false
		}
	}
	return true
}

// The viewers of this process, by socket, and the epoll instance they are polled through.
type poller struct {
	epoll   int
	mu      sync.Mutex
	viewers map[int32]*polledViewer
}

func newPoller() *poller {
	epoll, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		fail("epoll", err)
	}
	return &poller{epoll: epoll, viewers: map[int32]*polledViewer{}}
}

// add takes over a connected viewer's socket from Go's own poller, with what its reader has
// already read past the upgrade.
func (p *poller) add(t target, conn net.Conn, reader *bufio.Reader) error {
	buffered, _ := reader.Peek(reader.Buffered())
	raw, err := conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		return err
	}
	fd, dupErr := -1, error(nil)
	raw.Control(func(original uintptr) { fd, dupErr = syscall.Dup(int(original)) })
	conn.Close() // (the duplicate keeps the socket: non-blocking, as Go made it)
	if dupErr != nil {
		return dupErr
	}
	syscall.CloseOnExec(fd)
	v := &polledViewer{fd: fd, target: t}
	received.Add(int64(len(buffered)))
	if !v.feed(buffered) {
		syscall.Close(fd)
		return errors.New("closed at once")
	}
	p.mu.Lock()
	p.viewers[int32(fd)] = v
	p.mu.Unlock()
	open.Add(1)
	event := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)}
	if err := syscall.EpollCtl(p.epoll, syscall.EPOLL_CTL_ADD, fd, &event); err != nil {
		p.drop(v) // (never read: not counted open)
		return err
	}
	return nil
}

func (p *poller) run() {
	events := make([]syscall.EpollEvent, 1024)
	buffer := make([]byte, 256<<10)
	for {
		n, err := syscall.EpollWait(p.epoll, events, 0)
		if err != nil && err != syscall.EINTR {
			fail("epoll_wait", err)
		}
		for _, event := range events[:max(n, 0)] {
			p.mu.Lock()
			v := p.viewers[event.Fd]
			p.mu.Unlock()
			if v == nil {
				continue
			}
			read, err := syscall.Read(v.fd, buffer)
			if err == syscall.EAGAIN || err == syscall.EINTR {
				continue
			}
			if read > 0 {
				received.Add(int64(read))
			}
			if read <= 0 || !v.feed(buffer[:read]) {
				p.drop(v)
			}
		}
		if n < len(events) {
			time.Sleep(pollInterval)
		}
	}
}

func (p *poller) drop(v *polledViewer) {
	p.mu.Lock()
	delete(p.viewers, int32(v.fd))
	p.mu.Unlock()
	syscall.Close(v.fd) // (which takes it out of the epoll instance)
	open.Add(-1)
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
	addr := "127.0.0.1:" + args[0]
	p := newPoller()
	go p.run()
	var ready sync.WaitGroup
	gate := make(chan struct{}, 200) // connecting at once
	ready.Add(count)
	for i := 0; i < count; i++ {
		go func() {
			defer ready.Done()
			gate <- struct{}{}
			defer func() { <-gate }()
			if conn, reader, err := t.dial(addr); err == nil {
				p.add(t, conn, reader)
			}
		}()
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
