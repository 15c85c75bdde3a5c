package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// dialSocket opens a WebSocket to PATH on ADDR (host:port) and returns the connection and a reader
// positioned after the upgrade response (which may already hold the first frames).
func dialSocket(addr, path string) (net.Conn, *bufio.Reader, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path, addr)
	reader := bufio.NewReaderSize(conn, 64*1024)
	status, err := reader.ReadString('\n')
	if err != nil || len(status) < 12 || status[9:12] != "101" {
		conn.Close()
		return nil, nil, fmt.Errorf("no upgrade: %q %v", status, err)
	}
	for {
		line, err := reader.ReadString('\n')
		if err != nil {
			conn.Close()
			return nil, nil, err
		}
		if line == "\r\n" {
			return conn, reader, nil
		}
	}
}

// readFrame returns the payload of the next server frame (server frames are never masked) and its
// opcode.
func readFrame(reader *bufio.Reader, payload []byte) ([]byte, byte, error) {
	var head [8]byte
	if _, err := io.ReadFull(reader, head[:2]); err != nil {
		return nil, 0, err
	}
	opcode, size := head[0]&0x0f, uint64(head[1]&0x7f)
	switch size {
	case 126:
		if _, err := io.ReadFull(reader, head[:2]); err != nil {
			return nil, 0, err
		}
		size = uint64(binary.BigEndian.Uint16(head[:2]))
	case 127:
		if _, err := io.ReadFull(reader, head[:8]); err != nil {
			return nil, 0, err
		}
		size = binary.BigEndian.Uint64(head[:8])
	}
	if size > 16<<20 {
		return nil, 0, errors.New("frame too large")
	}
	if uint64(cap(payload)) < size {
		payload = make([]byte, size)
	}
	payload = payload[:size]
	_, err := io.ReadFull(reader, payload)
	return payload, opcode, err
}

// textFrame is a client text frame: masked, as RFC 6455 requires (with a zero mask: the bytes
// stay as they are, the server unmasks all the same).
func textFrame(payload []byte) []byte {
	var frame bytes.Buffer
	frame.WriteByte(0x81)
	switch n := len(payload); {
	case n < 126:
		frame.WriteByte(0x80 | byte(n))
	default:
		frame.WriteByte(0x80 | 126)
		binary.Write(&frame, binary.BigEndian, uint16(n))
	}
	frame.Write([]byte{0, 0, 0, 0})
	frame.Write(payload)
	return frame.Bytes()
}
