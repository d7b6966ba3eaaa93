package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/brokerly/accounts/adapters/betterauth"
	httpadapter "github.com/brokerly/accounts/adapters/http"
	"github.com/brokerly/accounts/adapters/memory"
	"github.com/brokerly/accounts/app"
	"github.com/brokerly/accounts/app/apptest"
	"github.com/brokerly/accounts/internal/servicetest"
	"github.com/brokerly/accounts/ports"
)

// brokenSocket accepts one connection, then fails for good, as a listening socket can.
type brokenSocket struct {
	net.Listener
	accepted bool
}

func (b *brokenSocket) Accept() (net.Conn, error) {
	if !b.accepted {
		b.accepted = true
		return b.Listener.Accept()
	}
	return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: b.Addr(), Err: os.NewSyscallError("accept4", syscall.EINVAL)}
}

func newMemoryServer(t *testing.T) *httpadapter.Server {
	t.Helper()
	verifier, err := betterauth.NewVerifier(servicetest.Secret)
	require.NoError(t, err)
	store := memory.NewStore()
	application := app.New(app.Deps{Sessions: store.Sessions(), Accounts: store.Accounts(), Credentials: store.Credentials(),
		Trail: store.Trail(), Cipher: apptest.NewCipher("k1"), Broker: apptest.NewBroker(nil),
		BrokerBudget: apptest.NewBrokerBudget(1, time.Second), Clock: ports.SystemClock{}})
	return httpadapter.NewServer(httpadapter.Config{}, application, verifier, nil, zap.NewNop())
}

// A server that stops serving for any reason but a shutdown takes the process down with
// it, exit code 1, through fx's shutdown (so the pool still closes after the server):
// a process that lives on without answering is never restarted.
func TestAServerThatStopsServingStopsTheProcess(t *testing.T) {
	t.Parallel()
	var socket *brokenSocket
	listen := func(network, addr string) (net.Listener, error) {
		ln, err := net.Listen(network, addr)
		socket = &brokenSocket{Listener: ln}
		return socket, err
	}
	application := fx.New(
		fx.NopLogger,
		fx.Supply(Config{HTTPAddr: "127.0.0.1:0", ShutdownTimeout: time.Second, ShutdownDrain: time.Hour}, zap.NewNop(), newMemoryServer(t)),
		fx.Supply(listenFunc(listen)),
		fx.Invoke(startHTTPServer),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, application.Start(ctx))
	resp, err := http.Get("http://" + socket.Addr().String() + "/healthz")
	require.NoError(t, err, "the first connection is served")
	resp.Body.Close()

	select {
	case sig := <-application.Wait():
		require.Equal(t, 1, sig.ExitCode)
	case <-time.After(5 * time.Second):
		t.Fatal("the process stayed up after its server stopped serving")
	}
	stopped := time.Now()
	require.NoError(t, application.Stop(ctx))
	require.Less(t, time.Since(stopped), 2*time.Second, "no drain period for a server that serves no one")
}
