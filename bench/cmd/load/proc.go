package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/opencampfire/campfire/bench/internal/benchsrv"
)

// server is a bench server running as its own process.
type server struct {
	kind string // "campfire" or "centrifuge"
	addr string
	cmd  *exec.Cmd
	pid  int
	done chan error
}

// startServer starts bin pinned to cfg.serverCPU and waits until it answers.
func startServer(kind string, args ...string) (*server, error) {
	bin := filepath.Join(cfg.binDir, "server-"+kind)
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args = append([]string{"-addr", addr}, args...)
	if cfg.pprof {
		args = append(args, "-pprof")
	}
	var cmd *exec.Cmd
	if cfg.serverCPU != "" {
		cmd = exec.Command("taskset", append([]string{"-c", cfg.serverCPU, bin}, args...)...)
	} else {
		cmd = exec.Command(bin, args...)
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{kind: kind, addr: addr, cmd: cmd, pid: cmd.Process.Pid, done: make(chan error, 1)}
	running.Store(s, true)
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.HasPrefix(sc.Text(), "ready") {
				close(ready)
				signalled = true
			}
		}
		io.Copy(io.Discard, out)
		err := cmd.Wait()
		running.Delete(s)
		s.done <- err
	}()
	select {
	case <-ready:
	case err := <-s.done:
		return nil, fmt.Errorf("%s exited before it was ready: %v", kind, err)
	case <-time.After(10 * time.Minute): // a first run may seed a big database
		s.kill()
		return nil, fmt.Errorf("%s not ready", kind)
	}
	return s, nil
}

// running holds the servers started and not yet ended.
var running sync.Map

// killRunning kills every server still running: when the load generator
// itself is interrupted.
func killRunning() {
	running.Range(func(k, _ any) bool {
		k.(*server).cmd.Process.Kill()
		return true
	})
}

// freeAddr picks a free loopback port.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// stop asks the server to shut down, and kills it if it does not.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.kill()
	}
}

// kill ends the server at once, as a crash would.
func (s *server) kill() {
	s.cmd.Process.Kill()
	<-s.done
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

var httpc = &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0}}

func (s *server) stats() benchsrv.Stats {
	var st benchsrv.Stats
	resp, err := httpc.Get(s.url("/bench/stats"))
	if err != nil {
		return st
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(&st)
	return st
}

func (s *server) post(path string) error {
	resp, err := httpc.Post(s.url(path), "", nil)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

func (s *server) gc() { s.post("/bench/gc") }

func (s *server) probe(rooms []int64) {
	q := make([]string, len(rooms))
	for i, r := range rooms {
		q[i] = "room=" + strconv.FormatInt(r, 10)
	}
	s.post("/bench/probe?" + strings.Join(q, "&"))
}

// setupRooms returns a campfire server's room ids.
func (s *server) setupRooms() ([]int64, string, error) {
	var v struct {
		Rooms []int64 `json:"rooms"`
		DB    string  `json:"db"`
	}
	resp, err := httpc.Get(s.url("/bench/setup"))
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&v)
	return v.Rooms, v.DB, err
}

// procCPU is a process's user+system CPU time from /proc/PID/stat (clock
// ticks of 10 ms).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	// Fields after the command name, which is in parentheses.
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+2:])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// selfCPU is this process's CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// saveProfile fetches a pprof profile from a server started with -pprof.
func (s *server) saveProfile(ctx context.Context, path, name string) {
	if !cfg.pprof || cfg.profileDir == "" {
		return
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", s.url(path), nil)
	resp, err := httpc.Do(req)
	if err != nil {
		logf("profile %s: %v", name, err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(filepath.Join(cfg.profileDir, name))
	if err != nil {
		logf("profile %s: %v", name, err)
		return
	}
	defer f.Close()
	io.Copy(f, resp.Body)
}
