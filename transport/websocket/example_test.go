package websocket_test

import (
	"context"
	"log"
	"net/http"

	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/store/sqlite"
	"github.com/opencampfire/campfire/transport/websocket"
)

// A browser opens one socket, follows rooms from the last seq it saw, and
// splits each message on newlines:
//
//	const ws = new WebSocket("wss://app.example.com/chat/api/v1/ws");
//	ws.onopen = () => ws.send(JSON.stringify({type: "subscribe", room_id: 7, since: 118}));
//	ws.onmessage = (m) => m.data.split("\n").forEach((line) => handle(JSON.parse(line)));
func ExampleNew() {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, "chat.db", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	chat, err := campfire.New(campfire.Config{
		Store: db,
		Transports: []campfire.Transport{websocket.New(&websocket.Options{
			// The React dev server runs on another port.
			OriginPatterns: []string{"localhost:5173"},
		})},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer chat.Shutdown(ctx)
	http.Handle("/chat/", http.StripPrefix("/chat", chat))
	log.Fatal(http.ListenAndServe(":8080", nil))
}
