package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestCrashDurability runs the example server as a child process on a
// SQLite file, posts at a steady rate from eight people at once, and
// SIGKILLs the server at random moments, restarting it on the same file
// each time. Posters retry what was not acknowledged with the same
// client_message_id, as the web client does. At the end every acknowledged
// message is there exactly once, the room's event log is gap-free, and
// PRAGMA integrity_check says ok. Midway, the backup command copies the
// live database from another process; the copy holds everything
// acknowledged before it began.
func TestCrashDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server and kills it several times (about 20 s)")
	}
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL and SIGTERM")
	}
	const (
		posters = 8
		kills   = 6
		pace    = 250 * time.Millisecond // under the default 5 posts a second per person
	)
	started := time.Now()
	dir := t.TempDir()
	bin := buildServer(t, dir)
	srv := &child{t: t, bin: bin, db: filepath.Join(dir, "chat.db"), log: filepath.Join(dir, "server.log")}
	srv.start()
	defer srv.stopNow()

	// An admin who sets up, and people who join: eight posters in All Talk.
	people := make([]*poster, posters)
	people[0] = newPoster(srv, 0)
	people[0].mustJSON(201, "POST", "/api/v1/setup", `{"name":"Ada","email":"p0@example.com","password":"correct horse battery"}`, nil)
	var acct struct {
		JoinCode string `json:"join_code"`
	}
	people[0].mustJSON(200, "GET", "/api/v1/account", "", &acct)
	for i := 1; i < posters; i++ {
		people[i] = newPoster(srv, i)
		people[i].mustJSON(201, "POST", "/api/v1/join/"+acct.JoinCode,
			fmt.Sprintf(`{"name":"Poster %d","email":"p%d@example.com","password":"correct horse battery"}`, i, i), nil)
	}
	var rooms struct {
		Rooms []struct {
			ID int64 `json:"id"`
		} `json:"rooms"`
	}
	people[0].mustJSON(200, "GET", "/api/v1/rooms", "", &rooms)
	if len(rooms.Rooms) != 1 {
		t.Fatalf("rooms after setup: %+v", rooms)
	}
	room := rooms.Rooms[0].ID

	// Post until told to stop; each poster finishes the message in hand.
	var ledger ledger
	sending := make(chan struct{}, 1) // a post is on its way
	ledger.sending = sending
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, p := range people {
		wg.Go(func() { p.postUntil(stop, room, pace, &ledger) })
	}
	stopPosting := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopPosting()

	// Kill at random moments: 0.3 to 1.8 s apart, down for up to 0.3 s.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	waitAcks := func(n int) {
		t.Helper()
		for i := 0; ledger.count() < n; i++ {
			if i == 3000 {
				t.Fatalf("only %d messages acknowledged; server log:\n%s", ledger.count(), srv.logTail())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	var backupPath string
	var beforeBackup map[string]int64
	for k := range kills {
		waitAcks(ledger.count() + 5) // posts are going through
		time.Sleep(time.Duration(300+rng.IntN(1500)) * time.Millisecond)
		// Half the kills land just as a post goes out (0 to 3 ms after),
		// when it may be stored but not yet answered.
		if k%2 == 0 {
			select {
			case <-sending: // stale
			default:
			}
			select {
			case <-sending:
				time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
			case <-time.After(2 * time.Second):
			}
		}
		srv.kill()
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		srv.start()
		if k == 1 {
			waitAcks(ledger.count() + 5)
			beforeBackup = ledger.snapshot()
			backupPath = filepath.Join(dir, "backup.db")
			out, err := exec.Command(bin, "backup", "-db", srv.db, backupPath).CombinedOutput()
			if err != nil {
				t.Fatalf("backup of the live database: %v\n%s", err, out)
			}
			t.Logf("%s", bytes.TrimSpace(out))
		}
	}
	waitAcks(ledger.count() + 10)
	stopPosting()
	for _, p := range people {
		if p.err != nil {
			t.Fatalf("poster %d: %v; server log:\n%s", p.n, p.err, srv.logTail())
		}
	}
	acked := ledger.snapshot()
	t.Logf("%d messages acknowledged (%d on a retry that found them stored), %d kills, %d posts unanswered, %d 429s, in %v",
		len(acked), ledger.replays.Load(), kills, ledger.unanswered.Load(), ledger.throttled.Load(), time.Since(started).Round(time.Millisecond))

	// Every acknowledged message is there once, and nothing else is.
	stored := map[string]int64{} // client_message_id -> id
	path := fmt.Sprintf("/api/v1/rooms/%d/messages?limit=100", room)
	for page := 0; ; page++ {
		if page > len(acked)/100+10 {
			t.Fatal("paging does not end")
		}
		var res struct {
			Messages []struct {
				ID              int64  `json:"id"`
				ClientMessageID string `json:"client_message_id"`
			} `json:"messages"`
			MoreBefore bool `json:"more_before"`
		}
		people[0].mustJSON(200, "GET", path, "", &res)
		for _, m := range res.Messages {
			if prev, dup := stored[m.ClientMessageID]; dup {
				t.Fatalf("client_message_id %q stored twice: messages %d and %d", m.ClientMessageID, prev, m.ID)
			}
			stored[m.ClientMessageID] = m.ID
		}
		if !res.MoreBefore || len(res.Messages) == 0 {
			break
		}
		path = fmt.Sprintf("/api/v1/rooms/%d/messages?limit=100&before=%d", room, res.Messages[0].ID)
	}
	for cid, id := range acked {
		if got, ok := stored[cid]; !ok || got != id {
			t.Fatalf("acknowledged message %q (id %d) is missing (found %d, %v)", cid, id, got, ok)
		}
	}
	if len(stored) != len(acked) {
		t.Fatalf("%d messages stored, %d acknowledged: every post was retried until acknowledged, so they must match", len(stored), len(acked))
	}

	// The event log runs 1..N without a gap, one message.created each.
	var since, last int64
	created := 0
	for page := 0; ; page++ {
		if page > len(acked)/1000+10 {
			t.Fatal("event paging does not end")
		}
		var res struct {
			Events []struct {
				Type string `json:"type"`
				Seq  int64  `json:"seq"`
			} `json:"events"`
			Seq    int64 `json:"seq"`
			Resync bool  `json:"resync"`
		}
		people[0].mustJSON(200, "GET", fmt.Sprintf("/api/v1/rooms/%d/events?since=%d", room, since), "", &res)
		if res.Resync {
			t.Fatal("events: resync")
		}
		for _, ev := range res.Events {
			if ev.Seq != since+1 {
				t.Fatalf("event seq %d after %d: a gap or a repeat", ev.Seq, since)
			}
			since = ev.Seq
			if ev.Type == "message.created" {
				created++
			}
		}
		last = res.Seq
		if since >= last || len(res.Events) == 0 {
			break
		}
	}
	if since != last || created != len(acked) {
		t.Fatalf("events 1..%d of %d, %d message.created for %d messages", since, last, created, len(acked))
	}

	// A last kill, with nothing in flight; then the file itself.
	srv.kill()
	integrity(t, srv.db)
	db, err := sql.Open("sqlite", srv.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM messages WHERE room_id = ?`, room).Scan(&n); err != nil || n != len(acked) {
		t.Fatalf("after the last kill the file holds %d messages (%v), want %d", n, err, len(acked))
	}

	// The backup taken midway is whole and holds what was acknowledged
	// before it began.
	integrity(t, backupPath)
	bdb, err := sql.Open("sqlite", backupPath)
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	for cid, id := range beforeBackup {
		var got int64
		if err := bdb.QueryRow(`SELECT id FROM messages WHERE client_message_id = ? AND room_id = ?`, cid, room).Scan(&got); err != nil || got != id {
			t.Fatalf("message %q acknowledged before the backup is not in it: %v", cid, err)
		}
	}
	t.Logf("backup holds the %d messages acknowledged before it; total %v", len(beforeBackup), time.Since(started).Round(time.Millisecond))
}

// buildServer builds this command into dir.
func buildServer(t *testing.T, dir string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(dir, "campfire-server")
	cmd := exec.Command(goBin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// integrity runs PRAGMA integrity_check on a database file.
func integrity(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil {
		t.Fatal(err)
	}
	if res != "ok" {
		t.Fatalf("integrity_check of %s: %s", path, res)
	}
}

// child is the server process, restarted on the same database.
type child struct {
	t    *testing.T
	bin  string
	db   string
	log  string
	base atomic.Pointer[string] // http://127.0.0.1:PORT of the running process
	cmd  *exec.Cmd
	done chan struct{}
}

// start runs the server on a free port and waits until it listens.
func (c *child) start() {
	c.t.Helper()
	logf, err := os.OpenFile(c.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(c.bin, "-addr", "127.0.0.1:0", "-db", c.db)
	cmd.Env = append(os.Environ(), "CAMPFIRE_ADDR=", "CAMPFIRE_DB=")
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(done)
	}()
	line := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdout)
		l, _ := br.ReadString('\n')
		line <- l
		io.Copy(io.Discard, br)
	}()
	select {
	case l := <-line:
		i := strings.Index(l, "http://")
		if i < 0 {
			cmd.Process.Kill()
			<-done
			c.t.Fatalf("server did not start: %q; log:\n%s", l, c.logTail())
		}
		base := strings.Fields(l[i:])[0]
		c.base.Store(&base)
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		c.t.Fatalf("server did not start within 20s; log:\n%s", c.logTail())
	}
	c.cmd, c.done = cmd, done
}

// kill SIGKILLs the server and waits until it is gone.
func (c *child) kill() {
	if c.cmd == nil {
		return
	}
	c.cmd.Process.Kill()
	<-c.done
	c.cmd = nil
}

func (c *child) stopNow() { c.kill() }

func (c *child) logTail() string {
	b, _ := os.ReadFile(c.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// ledger is what the server acknowledged: client_message_id -> message id.
type ledger struct {
	mu         sync.Mutex
	acked      map[string]int64
	replays    atomic.Int64 // 200s: a retry found the message already stored
	unanswered atomic.Int64 // attempts that got no answer (server down or killed)
	throttled  atomic.Int64
	sending    chan<- struct{}
}

func (l *ledger) ack(cid string, id int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.acked == nil {
		l.acked = map[string]int64{}
	}
	if prev, ok := l.acked[cid]; ok && prev != id {
		return fmt.Errorf("%q acknowledged as message %d and as %d", cid, prev, id)
	}
	l.acked[cid] = id
	return nil
}

func (l *ledger) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

func (l *ledger) snapshot() map[string]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := make(map[string]int64, len(l.acked))
	for k, v := range l.acked {
		m[k] = v
	}
	return m
}

// poster is one person's client, following the server across restarts.
type poster struct {
	n    int
	srv  *child
	http *http.Client
	err  error // why posting stopped early
}

func newPoster(srv *child, n int) *poster {
	jar, _ := cookiejar.New(nil) // cookies do not depend on the port
	return &poster{n: n, srv: srv, http: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// do sends one request to the server as it is now.
func (p *poster) do(method, path, body string) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, *p.srv.base.Load()+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := p.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b, err
}

// mustJSON is do from the test's goroutine, failing it unless status is want.
func (p *poster) mustJSON(want int, method, path, body string, out any) {
	p.srv.t.Helper()
	status, _, b, err := p.do(method, path, body)
	if err != nil || status != want {
		p.srv.t.Fatalf("%s %s: %d %s %v, want %d", method, path, status, b, err, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			p.srv.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// postUntil posts a message every pace until stop, each with a new
// client_message_id, retrying one until the server acknowledges it
// (201, or 200 when it was stored before the answer was lost).
func (p *poster) postUntil(stop <-chan struct{}, room int64, pace time.Duration, l *ledger) {
	path := fmt.Sprintf("/api/v1/rooms/%d/messages", room)
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		cid := fmt.Sprintf("p%d-m%d", p.n, i)
		body, _ := json.Marshal(map[string]string{"body": fmt.Sprintf("message %d from poster %d", i, p.n), "client_message_id": cid})
		for attempt := 0; ; attempt++ {
			if attempt == 1000 { // about a minute of failures
				p.err = fmt.Errorf("%s never acknowledged", cid)
				return
			}
			select {
			case l.sending <- struct{}{}:
			default:
			}
			status, h, b, err := p.do("POST", path, string(body))
			if err == nil && (status == 201 || status == 200) {
				var res struct {
					Message struct {
						ID              int64  `json:"id"`
						ClientMessageID string `json:"client_message_id"`
					} `json:"message"`
				}
				if err := json.Unmarshal(b, &res); err != nil || res.Message.ClientMessageID != cid {
					p.err = fmt.Errorf("answer to %s: %s (%v)", cid, b, err)
					return
				}
				if err := l.ack(cid, res.Message.ID); err != nil {
					p.err = err
					return
				}
				if status == 200 {
					l.replays.Add(1)
				}
				break
			}
			switch {
			case err != nil: // the server is down or was killed mid-request
				l.unanswered.Add(1)
				time.Sleep(50 * time.Millisecond)
			case status == 429:
				l.throttled.Add(1)
				secs, _ := strconv.Atoi(h.Get("Retry-After"))
				time.Sleep(time.Duration(min(max(secs, 1), 2)) * time.Second)
			default:
				p.err = fmt.Errorf("post %s: %d %s", cid, status, b)
				return
			}
		}
		time.Sleep(pace)
	}
}

// The backup command never creates a database that was not there, never
// overwrites, and says how to call it.
func TestBackupCommandRefuses(t *testing.T) {
	dir := t.TempDir()
	noEnv := func(string) string { return "" }
	missing := filepath.Join(dir, "missing.db")
	if err := run(t.Context(), []string{"backup", "-db", missing, filepath.Join(dir, "b.db")}, noEnv, io.Discard); err == nil {
		t.Fatal("backup of a missing database succeeded")
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatal("backup created the database it was asked to copy")
	}
	if err := run(t.Context(), []string{"backup", "-db", missing}, noEnv, io.Discard); err == nil {
		t.Fatal("backup without a destination succeeded")
	}

	if err := os.WriteFile(filepath.Join(dir, "taken.db"), []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A real database, backed up once; the second time the name is taken.
	srcDir := t.TempDir()
	src := filepath.Join(srcDir, "chat.db")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	pr, pw := io.Pipe()
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-db", src}, noEnv, pw)
		pw.Close()
	}()
	if _, err := bufio.NewReader(pr).ReadString('\n'); err != nil {
		t.Fatalf("server did not start: %v", err)
	}
	go io.Copy(io.Discard, pr)
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	}()
	dest := filepath.Join(dir, "taken.db")
	if err := run(t.Context(), []string{"backup", "-db", src, dest}, noEnv, io.Discard); err == nil {
		t.Fatal("backup over an existing file succeeded")
	}
	if b, _ := os.ReadFile(dest); string(b) != "keep" {
		t.Fatalf("backup changed an existing file: %q", b)
	}
	dest = filepath.Join(dir, "fresh.db")
	var out bytes.Buffer
	if err := run(t.Context(), []string{"backup", "-db", src, dest}, noEnv, &out); err != nil {
		t.Fatalf("backup of a running server's database: %v", err)
	}
	if !strings.Contains(out.String(), "backed up") {
		t.Fatalf("backup said %q", out.String())
	}
	integrity(t, dest)
}
