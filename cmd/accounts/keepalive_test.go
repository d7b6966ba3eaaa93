package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// keepAliveConn is one HTTP/1.1 connection used as a keep-alive client uses it: a request,
// its answer, the next request on the same connection, a new connection only when the
// server has said Connection: close. Unlike net/http's client it never retries, so a
// request the server drops shows up as lost instead of being sent again.
type keepAliveConn struct {
	conn net.Conn
	r    *bufio.Reader
}

func dialKeepAliveFrom(local, addr string) (*keepAliveConn, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &keepAliveConn{conn: c, r: bufio.NewReader(c)}, nil
}

// do sends one request and reads its whole answer; headers come in name/value pairs. An
// error means the request went out on an open connection and got no answer.
func (k *keepAliveConn) do(method, path, body string, headers ...string) (*http.Response, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: accounts.test\r\n", method, path)
	for i := 0; i+1 < len(headers); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", headers[i], headers[i+1])
	}
	switch {
	case body != "":
		fmt.Fprintf(&b, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	case method != http.MethodGet:
		b.WriteString("Content-Length: 0\r\n")
	}
	b.WriteString("\r\n" + body)
	_ = k.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(k.conn, b.String()); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(k.r, nil)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, err
}

func (k *keepAliveConn) close() { _ = k.conn.Close() }
