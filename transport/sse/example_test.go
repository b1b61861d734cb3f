package sse_test

import (
	"context"
	"log"
	"net/http"
	"time"

	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/store/sqlite"
	"github.com/opencampfire/campfire/transport/sse"
)

// A browser follows rooms with EventSource; when the stream drops, it
// reconnects with Last-Event-ID and resumes where it stopped:
//
//	const events = new EventSource("/chat/api/v1/sse?rooms=7:118,9:0");
//	events.onmessage = (e) => handle(JSON.parse(e.data));
func ExampleNew() {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, "chat.db", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	chat, err := campfire.New(campfire.Config{
		Store: db,
		Transports: []campfire.Transport{sse.New(&sse.Options{
			HeartbeatInterval: 30 * time.Second, // the proxy in front drops streams idle for 60s
		})},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer chat.Shutdown(ctx)
	http.Handle("/chat/", http.StripPrefix("/chat", chat))
	log.Fatal(http.ListenAndServe(":8080", nil))
}
