package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is every figure of a run; it is what -json writes.
type Report struct {
	Started      time.Time       `json:"started"`
	Seconds      float64         `json:"seconds"`
	Quick        bool            `json:"quick"`
	Command      string          `json:"command"`
	GoVersion    string          `json:"go_version"`
	ServerCPU    string          `json:"server_cpu"`
	Machine      Machine         `json:"machine"`
	Idle         []IdleResult    `json:"idle,omitempty"`
	Fanout       []FanoutRun     `json:"fanout,omitempty"`
	Posting      []PostingResult `json:"posting,omitempty"`
	PostingCheck *PostingCheck   `json:"posting_check,omitempty"`
	ReadsInfo    *ReadsInfo      `json:"reads_info,omitempty"`
	Reads        []ReadResult    `json:"reads,omitempty"`
	Storm        *StormResult    `json:"storm,omitempty"`
	Errors       []string        `json:"errors,omitempty"`
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

func printReport(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "\ncampfire load: %s, %d CPUs (%s), servers on CPU %q, %s, %.0fs\n",
		rep.Started.Format(time.RFC3339), rep.Machine.NProc, rep.Machine.CPUModel, rep.ServerCPU, rep.GoVersion, rep.Seconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	line := func(cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t") }

	if len(rep.Idle) > 0 {
		fmt.Fprintln(w, "\nIdle footprint (per connection; ratio = campfire / centrifuge)")
		line("transport", "conns", "RSS cf", "RSS cg", "ratio", "in use cf", "in use cg", "ratio", "heap cf", "heap cg", "ratio", "gor cf", "gor cg", "CPU ns/s cf", "CPU ns/s cg", "ratio")
		for i := 0; i+1 < len(rep.Idle); i += 2 {
			a, b := rep.Idle[i], rep.Idle[i+1]
			line(a.Transport, fmt.Sprint(a.Conns),
				kb(a.RSSPerConn), kb(b.RSSPerConn), ratio(a.RSSPerConn, b.RSSPerConn),
				kb(a.InUsePerConn), kb(b.InUsePerConn), ratio(a.InUsePerConn, b.InUsePerConn),
				kb(a.HeapPerConn), kb(b.HeapPerConn), ratio(a.HeapPerConn, b.HeapPerConn),
				fmt.Sprintf("%.2f", a.GoroutinesPerConn), fmt.Sprintf("%.2f", b.GoroutinesPerConn),
				fmt.Sprintf("%.0f", a.CPUPerConnNSPerSec), fmt.Sprintf("%.0f", b.CPUPerConnNSPerSec), ratio(a.CPUPerConnNSPerSec, b.CPUPerConnNSPerSec))
		}
		tw.Flush()
	}

	if len(rep.Fanout) > 0 {
		fmt.Fprintln(w, "\nFan-out (cf = campfire, cg = centrifuge; ratio = campfire / centrifuge; latency in ms; CPU s/M = server CPU-seconds per million deliveries)")
		line("topology", "body", "offered/s", "deliv/s cf", "deliv/s cg", "ratio", "p50 cf", "p50 cg", "p99 cf", "p99 cg", "ratio", "p99.9 cf", "p99.9 cg",
			"CPU s/M cf", "CPU s/M cg", "ratio", "allocs cf", "allocs cg", "deliv/write cf/cg", "server CPU cf/cg", "runq wait cf/cg", "lost cf/cg", "load CPU cf/cg")
		for _, m := range medianFanout(rep.Fanout) {
			a, b := m[0], m[1]
			line(a.Topology, fmt.Sprint(a.Body), offered(a),
				fmt.Sprintf("%.0f", a.Delivered), fmt.Sprintf("%.0f", b.Delivered), ratio(a.Delivered, b.Delivered),
				f2(a.P50MS), f2(b.P50MS), f2(a.P99MS), f2(b.P99MS), ratio(a.P99MS, b.P99MS), f2(a.P999MS), f2(b.P999MS),
				f2(a.CPUSPerMillion), f2(b.CPUSPerMillion), ratio(a.CPUSPerMillion, b.CPUSPerMillion),
				f2(a.AllocsPerDelivery), f2(b.AllocsPerDelivery),
				fmt.Sprintf("%.1f/%.1f", a.DeliveriesPerWrite, b.DeliveriesPerWrite),
				fmt.Sprintf("%.0f%%/%.0f%%", 100*a.ServerCPUUtil, 100*b.ServerCPUUtil),
				fmt.Sprintf("%.0f%%/%.0f%%", 100*a.ServerRunQueue, 100*b.ServerRunQueue),
				fmt.Sprintf("%d/%d", a.Lost, b.Lost), fmt.Sprintf("%.0f%%/%.0f%%", 100*a.LoadCPUUtil, 100*b.LoadCPUUtil))
		}
		tw.Flush()
	}

	if len(rep.Posting) > 0 {
		fmt.Fprintln(w, "\nDurable posting (POST /messages on SQLite, campfire)")
		line("synchronous", "posters", "acked/s", "p50 ms", "p99 ms", "p99.9 ms", "failed", "server CPU", "CPU ms/post", "allocs/post")
		for _, r := range rep.Posting {
			line(r.Synchronous, fmt.Sprint(r.Posters), fmt.Sprintf("%.0f", r.PerSec), f2(r.P50MS), f2(r.P99MS), f2(r.P999MS), fmt.Sprint(r.Failed),
				fmt.Sprintf("%.0f%%", 100*r.ServerCPUUtil), fmt.Sprintf("%.3f", r.CPUMSPerPost), fmt.Sprintf("%.0f", r.AllocsPerPost))
		}
		tw.Flush()
		if c := rep.PostingCheck; c != nil {
			fmt.Fprintf(w, "every acknowledged message checked after kill -9: %d acknowledged, %d found, %d missing\n", c.Acked, c.Verified, c.Missing)
		}
	}

	if len(rep.Reads) > 0 {
		if ri := rep.ReadsInfo; ri != nil {
			fmt.Fprintf(w, "\nReads at size (%d messages in %d rooms, %d in the big room, %.0f MB; through HTTP, and straight on the Store)\n",
				ri.Messages, ri.Rooms, ri.BigRoom, ri.FileMB)
		}
		line("query", "p50 ms", "p99 ms", "max ms", "store p50", "store p99", "results", "requests")
		for _, r := range rep.Reads {
			line(r.Query, f3(r.P50MS), f3(r.P99MS), f3(r.MaxMS), f3(r.StoreP50MS), f3(r.StoreP99MS), fmt.Sprint(r.Results), fmt.Sprint(r.Requests))
		}
		tw.Flush()
	}

	if s := rep.Storm; s != nil {
		fmt.Fprintln(w, "\nReconnect storm (campfire)")
		fmt.Fprintf(w, "%d clients in %d rooms dropped at once, reconnected with jitter over %.0fs while %.0f msgs/s were posted:\n",
			s.Clients, s.Rooms, s.JitterS, s.PostRate)
		fmt.Fprintf(w, "  resumed %d/%d (%.1f%%), all within %.2fs of the drop (p50 %.2fs); lost %d, duplicated %d, resyncs %d, incomplete %d; %d posted (%.0f/s achieved), %d failed; %d deliveries\n",
			s.Resumed, s.Clients, 100*float64(s.Resumed)/float64(max(s.Clients, 1)), s.AllResumedS, s.ResumeP50S,
			s.Lost, s.Duplicated, s.Resyncs, s.Incomplete, s.Posted, s.PostedPerSec, s.PostFailed, s.Delivered)
	}
	for _, e := range rep.Errors {
		fmt.Fprintln(w, "ERROR:", e)
	}
}

func kb(b float64) string { return fmt.Sprintf("%.1f KB", b/1024) }
func f2(v float64) string { return fmt.Sprintf("%.2f", v) }
func f3(v float64) string { return fmt.Sprintf("%.3f", v) }

// medianFanout pairs the campfire and centrifuge runs of each measurement,
// in the order they were first made, each figure the median of its repeats.
func medianFanout(runs []FanoutRun) [][2]FanoutRun {
	key := func(r FanoutRun) string { return fmt.Sprint(r.Topology, r.Body, r.Offered, r.Mode) }
	var order []string
	groups := map[string]*[2][]FanoutRun{}
	for _, r := range runs {
		k := key(r)
		g := groups[k]
		if g == nil {
			g = &[2][]FanoutRun{}
			groups[k] = g
			order = append(order, k)
		}
		i := 0
		if r.Server != "campfire" {
			i = 1
		}
		g[i] = append(g[i], r)
	}
	var out [][2]FanoutRun
	for _, k := range order {
		g := groups[k]
		out = append(out, [2]FanoutRun{medianRun(g[0]), medianRun(g[1])})
	}
	return out
}

// medianRun takes each figure's median over runs (of one server and
// measurement); counts of losses are summed.
func medianRun(runs []FanoutRun) FanoutRun {
	if len(runs) == 0 {
		return FanoutRun{}
	}
	r := runs[0]
	med := func(get func(FanoutRun) float64) float64 {
		v := make([]float64, len(runs))
		for i, x := range runs {
			v[i] = get(x)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	r.Delivered = med(func(x FanoutRun) float64 { return x.Delivered })
	r.P50MS = med(func(x FanoutRun) float64 { return x.P50MS })
	r.P99MS = med(func(x FanoutRun) float64 { return x.P99MS })
	r.P999MS = med(func(x FanoutRun) float64 { return x.P999MS })
	r.CPUSPerMillion = med(func(x FanoutRun) float64 { return x.CPUSPerMillion })
	r.AllocsPerDelivery = med(func(x FanoutRun) float64 { return x.AllocsPerDelivery })
	r.DeliveriesPerWrite = med(func(x FanoutRun) float64 { return x.DeliveriesPerWrite })
	r.ServerCPUUtil = med(func(x FanoutRun) float64 { return x.ServerCPUUtil })
	r.ServerRunQueue = med(func(x FanoutRun) float64 { return x.ServerRunQueue })
	r.LoadCPUUtil = med(func(x FanoutRun) float64 { return x.LoadCPUUtil })
	r.Lost = 0
	for _, x := range runs {
		r.Lost += x.Lost
	}
	return r
}
