package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/opencampfire/campfire/bench/internal/benchsrv"
	"github.com/opencampfire/campfire/bench/internal/hist"
	"github.com/opencampfire/campfire/bench/internal/wire"
)

// FanoutRun is one fan-out measurement.
type FanoutRun struct {
	Server      string  `json:"server"`
	Topology    string  `json:"topology"` // rooms x subscribers per room
	Rooms       int     `json:"rooms"`
	SubsPerRoom int     `json:"subs_per_room"`
	Body        int     `json:"body_bytes"`
	EventBytes  int     `json:"event_bytes"`
	Mode        string  `json:"mode"`    // open (fixed rate) or saturation (window)
	Offered     float64 `json:"offered"` // deliveries/s; 0 at saturation
	Window      int64   `json:"window,omitempty"`
	DurationS   float64 `json:"duration_s"`

	Published    int64   `json:"published"`
	Expected     int64   `json:"expected"` // published x subscribers
	Received     int64   `json:"received"`
	Lost         int64   `json:"lost"`
	Dups         int64   `json:"dups"`
	Disconnected int     `json:"disconnected"`
	Delivered    float64 `json:"delivered_per_s"`

	P50MS  float64 `json:"p50_ms"`
	P99MS  float64 `json:"p99_ms"`
	P999MS float64 `json:"p999_ms"`
	MaxMS  float64 `json:"max_ms"`

	ServerCPUUtil float64 `json:"server_cpu_util"` // of one core
	// ServerRunQueue is the share of the run the server's threads spent
	// runnable but waiting for the CPU: what other processes took.
	ServerRunQueue     float64 `json:"server_runq_wait"`
	CPUSPerMillion     float64 `json:"server_cpu_s_per_million"`
	AllocsPerDelivery  float64 `json:"allocs_per_delivery"`
	BytesPerDelivery   float64 `json:"alloc_bytes_per_delivery"`
	DeliveriesPerWrite float64 `json:"deliveries_per_write"` // coalescing: deliveries per write syscall of the server
	LoadCPUUtil        float64 `json:"load_cpu_util"`        // the load generator's, of one core
	PublisherBehindMS  float64 `json:"publisher_behind_ms"`
}

type topology struct{ rooms, subs int }

func runFanout(ctx context.Context, rep *Report) error {
	topos := []topology{{1, 1000}, {10, 100}, {100, 10}}
	bodies := []int{100, 1024}
	dur := 5 * time.Second
	if cfg.quick {
		topos, bodies, dur = []topology{{10, 100}}, []int{100}, time.Second
	}
	rates := []float64{10_000, 100_000, 1_000_000, 0}
	if cfg.topologies != "" {
		topos = nil
		for _, t := range strings.Split(cfg.topologies, ",") {
			var tp topology
			if _, err := fmt.Sscanf(t, "%dx%d", &tp.rooms, &tp.subs); err != nil {
				return fmt.Errorf("topology %q: %w", t, err)
			}
			topos = append(topos, tp)
		}
	}
	if cfg.bodies != "" {
		bodies = nil
		for _, b := range strings.Split(cfg.bodies, ",") {
			n, err := strconv.Atoi(b)
			if err != nil {
				return err
			}
			bodies = append(bodies, n)
		}
	}
	if cfg.rates != "" {
		rates = nil
		for _, r := range strings.Split(cfg.rates, ",") {
			n, err := strconv.ParseFloat(r, 64)
			if err != nil {
				return err
			}
			rates = append(rates, n)
		}
	}
	if cfg.duration > 0 {
		dur = cfg.duration
	}
	for _, tp := range topos {
		// Both servers up at once (the idle one costs nothing), their runs
		// alternated, ABBA, so that the noise of a shared machine falls on
		// both alike.
		fs := []*fanout{{kind: "campfire", tp: tp}, {kind: "centrifuge", tp: tp}}
		for _, f := range fs {
			if err := f.start(ctx); err != nil {
				return fmt.Errorf("%s %dx%d: %w", f.kind, tp.rooms, tp.subs, err)
			}
			defer f.stop()
			// Warm up: goroutine stacks, buffers, the writers' pools.
			f.run(ctx, 100, 10_000, time.Second, "")
		}
		turn := 0
		for _, body := range bodies {
			for _, rate := range rates {
				order := []*fanout{fs[0], fs[1]}
				if turn%2 == 1 {
					order = []*fanout{fs[1], fs[0]}
				}
				turn++
				for again := 0; again < max(cfg.repeat, 1); again++ {
					if again > 0 {
						order[0], order[1] = order[1], order[0]
					}
					for _, f := range order {
						if f.s == nil {
							if err := f.start(ctx); err != nil {
								return err
							}
						}
						prof := ""
						if (rate == 0 || rate == 100_000) && body == 100 {
							prof = fmt.Sprintf("fanout-%s-%dx%d-%s", f.kind, tp.rooms, tp.subs, map[bool]string{true: "saturation", false: "100k"}[rate == 0])
						}
						r := f.run(ctx, body, rate, dur, prof)
						rep.Fanout = append(rep.Fanout, r)
						logf("fanout %s %s body %d offered %s: delivered %.0f/s p50 %.2fms p99 %.2fms p99.9 %.2fms cpu %.2fs/M allocs %.2f/delivery %.1f deliveries/write lost %d dups %d down %d (server cpu %.0f%%, waited %.0f%%, load cpu %.0f%%)",
							f.kind, r.Topology, body, offered(r), r.Delivered, r.P50MS, r.P99MS, r.P999MS, r.CPUSPerMillion, r.AllocsPerDelivery, r.DeliveriesPerWrite,
							r.Lost, r.Dups, r.Disconnected, 100*r.ServerCPUUtil, 100*r.ServerRunQueue, 100*r.LoadCPUUtil)
						if r.Disconnected > 0 || r.Lost > 0 {
							f.stop() // start afresh for the next run
						}
					}
				}
			}
		}
		for _, f := range fs {
			f.stop()
		}
	}
	return nil
}

func offered(r FanoutRun) string {
	if r.Mode == "saturation" {
		return "saturation"
	}
	return fmt.Sprintf("%.0fk/s", r.Offered/1000)
}

// fanout is a server with its subscribers connected.
type fanout struct {
	kind    string
	tp      topology
	s       *server
	rooms   []int64
	clients []*client
	byRoom  [][]*client
	lat     hist.H
}

func (f *fanout) start(ctx context.Context) error {
	s, err := startServer(f.kind, serverArgs(f.kind, 100, f.tp.rooms, 0, "")...)
	if err != nil {
		return err
	}
	f.s = s
	if f.rooms, err = roomsOf(s, f.tp.rooms); err != nil {
		f.stop()
		return err
	}
	f.clients = nil
	f.byRoom = make([][]*client, f.tp.rooms)
	for i := range f.tp.rooms * f.tp.subs {
		c := &client{kind: f.kind, addr: s.addr, user: fmt.Sprintf("u%d", i%100+1), room: f.rooms[i%f.tp.rooms], lat: &f.lat}
		f.clients = append(f.clients, c)
		f.byRoom[i%f.tp.rooms] = append(f.byRoom[i%f.tp.rooms], c)
	}
	if err := dialAll(ctx, f.clients, liveOnly, 64); err != nil {
		f.stop()
		return err
	}
	if err := waitProbed(s, f.clients, time.Minute); err != nil {
		f.stop()
		return err
	}
	return nil
}

func (f *fanout) stop() {
	if f.s == nil {
		return
	}
	closeAll(f.clients)
	f.s.stop()
	f.s = nil
}

func (f *fanout) received() (n int64) {
	for _, c := range f.clients {
		n += c.count.Load()
	}
	return n
}

// run publishes for dur, at rate deliveries/s (open loop) or, with rate 0,
// as fast as the server delivers with a bounded window of messages in
// flight per room, and measures what arrives.
func (f *fanout) run(ctx context.Context, body int, rate float64, dur time.Duration, profile string) FanoutRun {
	r := FanoutRun{
		Server: f.kind, Topology: fmt.Sprintf("%dx%d", f.tp.rooms, f.tp.subs), Rooms: f.tp.rooms, SubsPerRoom: f.tp.subs,
		Body: body, EventBytes: wire.EventSize(f.rooms[0], 1000, body), Mode: "open", Offered: rate, DurationS: dur.Seconds(),
	}
	cmd := benchsrv.Command{Rooms: f.rooms, Body: body, DurationMS: dur.Milliseconds()}
	if rate > 0 {
		cmd.Rate = rate / float64(f.tp.subs)
	} else {
		r.Mode = "saturation"
		// Per room, at most this many messages published and not yet
		// received by every subscriber: enough to keep every pipe full,
		// small enough to stay far below either server's 1 MiB queue limit.
		cmd.Window = 128
		r.Window = cmd.Window
	}
	f.lat.Reset()
	var dups0, gaps0 int64
	for _, c := range f.clients {
		dups0 += c.dups.Load()
		gaps0 += c.lost.Load()
	}
	down0 := countDown(f.clients)
	st0, l0 := f.s.stats(), selfCPU()
	recv0 := f.received()
	t0 := time.Now()

	ctl, _, err := websocket.Dial(ctx, "ws://"+f.s.addr+"/bench/control", nil)
	if err != nil {
		logf("control: %v", err)
		return r
	}
	defer ctl.CloseNow()
	ctl.SetReadLimit(1 << 20)
	b, _ := json.Marshal(cmd)
	ctl.Write(ctx, websocket.MessageText, b)
	stopAcks := make(chan struct{})
	if cmd.Window > 0 {
		go f.sendAcks(ctx, ctl, stopAcks)
	}
	if profile != "" && cfg.pprof {
		go f.s.saveProfile(ctx, fmt.Sprintf("/debug/pprof/profile?seconds=%d", max(1, int(dur.Seconds())-1)), profile+"-cpu.pb.gz")
	}
	var res benchsrv.Result
	if _, msg, err := ctl.Read(ctx); err == nil {
		json.Unmarshal(msg, &res)
	} else {
		logf("control read: %v", err)
	}
	close(stopAcks)
	tEnd := time.Now()
	recvEnd := f.received()

	// Drain: wait until every subscriber still up has the last message.
	expected := int64(0)
	deadline := time.Now().Add(10 * time.Second)
	for {
		behind := 0
		for _, c := range f.clients {
			if !c.down.Load() && c.last.Load() < res.LastSeq[c.room] {
				behind++
			}
		}
		if behind == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	tDrain := time.Now()
	st1, l1 := f.s.stats(), selfCPU()
	if profile != "" && cfg.pprof {
		f.s.saveProfile(ctx, "/debug/pprof/allocs", profile+"-allocs.pb.gz")
	}
	for _, id := range f.rooms {
		expected += (res.LastSeq[id] - res.FirstSeq[id] + 1) * int64(f.tp.subs)
	}
	var dups1, gaps1 int64
	for _, c := range f.clients {
		dups1 += c.dups.Load()
		gaps1 += c.lost.Load()
	}
	r.Published = res.Published
	r.Expected = expected
	r.Received = f.received() - recv0
	r.Lost = max(0, expected-r.Received, gaps1-gaps0)
	r.Dups = dups1 - dups0
	r.Disconnected = countDown(f.clients) - down0
	r.Delivered = float64(recvEnd-recv0) / tEnd.Sub(t0).Seconds()
	r.P50MS = ms(f.lat.Quantile(0.50))
	r.P99MS = ms(f.lat.Quantile(0.99))
	r.P999MS = ms(f.lat.Quantile(0.999))
	r.MaxMS = ms(f.lat.Max())
	wall := tDrain.Sub(t0)
	cpu := float64(st1.CPUNanos - st0.CPUNanos)
	r.ServerCPUUtil = cpu / float64(wall)
	r.ServerRunQueue = float64(st1.RunDelayNanos-st0.RunDelayNanos) / float64(wall)
	if r.Received > 0 {
		r.CPUSPerMillion = cpu / 1e9 / float64(r.Received) * 1e6
		r.AllocsPerDelivery = float64(st1.AllocObjects-st0.AllocObjects) / float64(r.Received)
		r.BytesPerDelivery = float64(st1.AllocBytes-st0.AllocBytes) / float64(r.Received)
		if w := st1.WriteCalls - st0.WriteCalls; w > 0 {
			r.DeliveriesPerWrite = float64(r.Received) / float64(w)
		}
	}
	r.LoadCPUUtil = float64(l1-l0) / float64(wall)
	r.PublisherBehindMS = float64(res.Behind) / 1e6
	return r
}

// sendAcks tells the publisher, every millisecond, the highest seq that
// every live subscriber of each room has received.
func (f *fanout) sendAcks(ctx context.Context, ctl *websocket.Conn, stop <-chan struct{}) {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	buf := make([]byte, 8*len(f.rooms))
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		for i, subs := range f.byRoom {
			low := int64(-1)
			for _, c := range subs {
				if c.down.Load() {
					continue
				}
				if l := c.last.Load(); low < 0 || l < low {
					low = l
				}
			}
			binary.LittleEndian.PutUint64(buf[8*i:], uint64(max(low, 0)))
		}
		if err := ctl.Write(ctx, websocket.MessageBinary, buf); err != nil {
			return
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
