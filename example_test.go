package campfire_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/store/sqlite"
)

// Mount a campfire under /chat/ of a host's own router.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "campfire-example")
	defer os.RemoveAll(dir)

	db, err := sqlite.Open(ctx, filepath.Join(dir, "chat.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	chat, err := campfire.New(campfire.Config{Store: db})
	if err != nil {
		log.Fatal(err)
	}
	defer chat.Shutdown(ctx)

	mux := http.NewServeMux()
	mux.Handle("/chat/", http.StripPrefix("/chat", chat))

	// A first visitor asks whether the chat needs setting up.
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/chat/api/v1/setup", nil))
	body, _ := io.ReadAll(rec.Body)
	fmt.Print(rec.Code, " ", string(body))
	// Output: 200 {"needed":true}
}

// A host that has its own sign-in hands campfire the signed-in person;
// campfire provisions a chat user for them on first sight.
func ExampleConfig_authenticate() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "campfire-example")
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(ctx, filepath.Join(dir, "chat.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	chat, err := campfire.New(campfire.Config{
		Store: db,
		Authenticate: func(r *http.Request) (campfire.Identity, error) {
			// In a real host: read the host's own session here.
			name := r.Header.Get("X-Demo-User")
			if name == "" {
				return campfire.Identity{}, campfire.ErrUnauthenticated
			}
			return campfire.Identity{ExternalID: "host-" + name, Name: name}, nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer chat.Shutdown(ctx)

	req := httptest.NewRequest("GET", "/api/v1/session", nil)
	req.Header.Set("X-Demo-User", "Grace")
	rec := httptest.NewRecorder()
	chat.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	// Output: 200
}

// Post as a user from Go, without HTTP: the same rules and events as the API.
func ExampleServer_PostMessage() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "campfire-example")
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(ctx, filepath.Join(dir, "chat.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	chat, err := campfire.New(campfire.Config{Store: db})
	if err != nil {
		log.Fatal(err)
	}
	defer chat.Shutdown(ctx)

	_, admin, room, err := db.Setup(ctx, campfire.Setup{
		AccountName: "Acme", JoinCode: "abcd-efgh-jkmn", RoomName: "All Talk",
		Admin: campfire.NewUser{Name: "Ada", Email: "ada@example.com", Role: campfire.RoleAdmin},
	})
	if err != nil {
		log.Fatal(err)
	}
	msg, _, err := chat.PostMessage(ctx, room.ID, admin, "Deploy is **done** /cc @Ada", "deploy-42")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(msg.Body.HTML)
	fmt.Println(msg.Body.PlainText)
	// Output:
	// <p>Deploy is <strong>done</strong> /cc <span class="mention" data-user-id="1">@Ada</span></p>
	// Deploy is done /cc @Ada
}
