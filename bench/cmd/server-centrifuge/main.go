// Command server-centrifuge is the baseline: a minimal server on
// github.com/centrifugal/centrifuge with its default settings and memory
// broker. Clients connect over WebSocket (/connection/websocket) and
// subscribe to channels "room<ID>", or over SSE (/connection/sse) with a
// server-side subscription to the room given as ?room=ID. The user comes
// from the X-Bench-User header, as for the campfire server. The fan-out
// publisher (internal/benchsrv) calls Node.Publish in-process with the same
// event bytes that campfire sends.
//
//	server-centrifuge -addr 127.0.0.1:9200 [-pprof]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/centrifugal/centrifuge"
	"github.com/opencampfire/campfire/bench/internal/benchsrv"
	"github.com/opencampfire/campfire/bench/internal/wire"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "server-centrifuge:", err)
		os.Exit(1)
	}
}

type roomKey struct{}

func run() error {
	addr := flag.String("addr", "127.0.0.1:9200", "listen address (loopback)")
	withPprof := flag.Bool("pprof", false, "serve net/http/pprof under /debug/pprof/")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	node, err := centrifuge.New(centrifuge.Config{})
	if err != nil {
		return err
	}
	node.OnConnecting(func(ctx context.Context, e centrifuge.ConnectEvent) (centrifuge.ConnectReply, error) {
		var reply centrifuge.ConnectReply
		if room, ok := ctx.Value(roomKey{}).(string); ok && room != "" {
			// SSE is one-way: the room is a server-side subscription.
			reply.Subscriptions = map[string]centrifuge.SubscribeOptions{"room" + room: {}}
		}
		return reply, nil
	})
	node.OnConnect(func(client *centrifuge.Client) {
		client.OnSubscribe(func(e centrifuge.SubscribeEvent, cb centrifuge.SubscribeCallback) {
			cb(centrifuge.SubscribeReply{}, nil)
		})
	})
	if err := node.Run(); err != nil {
		return err
	}
	auth := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user := r.Header.Get("X-Bench-User")
			if user == "" {
				http.Error(w, "unauthenticated", http.StatusUnauthorized)
				return
			}
			ctx := centrifuge.SetCredentials(r.Context(), &centrifuge.Credentials{UserID: user})
			ctx = context.WithValue(ctx, roomKey{}, r.URL.Query().Get("room"))
			h.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	target := &target{node: node}
	bench := benchsrv.Handler(target, *withPprof)
	mux := http.NewServeMux()
	mux.Handle("/connection/websocket", auth(centrifuge.NewWebsocketHandler(node, centrifuge.WebsocketConfig{})))
	mux.Handle("/connection/sse", auth(centrifuge.NewSSEHandler(node, centrifuge.SSEConfig{})))
	mux.Handle("/bench/", bench)
	mux.Handle("/debug/", bench)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Printf("ready %s\n", ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nodeErr := node.Shutdown(sctx)
	srv.Shutdown(sctx)
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nodeErr
}

type target struct {
	node     *centrifuge.Node
	channels sync.Map // room id -> channel name, so that publishing builds no string
}

func (t *target) channel(roomID int64) string {
	if ch, ok := t.channels.Load(roomID); ok {
		return ch.(string)
	}
	ch := "room" + strconv.FormatInt(roomID, 10)
	t.channels.Store(roomID, ch)
	return ch
}

func (t *target) Publish(roomID, seq, ts int64, bodySize int) {
	b := wire.AppendMessageEvent(make([]byte, 0, bodySize+100), roomID, seq, ts, bodySize)
	t.node.Publish(t.channel(roomID), b)
}

func (t *target) Probe(roomID int64) {
	t.node.Publish(t.channel(roomID), []byte(`{"type":"probe","room_id":`+strconv.FormatInt(roomID, 10)+`}`))
}
