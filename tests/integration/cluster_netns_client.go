// cluster-netns-client: the stock nats.go client for cluster_netns_test.py (one process per role,
// each started inside a node's network namespace with `ip netns exec`).
//
//	-mode pub: publishes to -subj at a steady -rate (messages per second) until SIGTERM/SIGINT.
//	           Payload: the sequence number (uint64, big endian, from 1), padded to -size bytes.
//	           If Publish blocks (the server stopped reading), the missed schedule is caught up
//	           afterwards, so the total stays rate x time. Prints "P <last seq> <unix ms>" every
//	           100 ms; on SIGTERM it flushes and prints one JSON line: published, max_block_ms
//	           (the longest single pass through the publishing loop), errors.
//	-mode sub: subscribes to -subj (async callback, no pending limits), flushes, prints "R", then
//	           "S <count> <last seq> <unix ms>" every 100 ms. On SIGTERM it prints one JSON line:
//	           count, first, last, duplicates, out_of_order, gaps (missing ranges [a,b] between
//	           consecutive arrivals, the first 200), missing (total), max_interarrival_ms (and the
//	           sequence that ended that gap), errors.
//
// Both connect with nats.NoReconnect(): the test needs each client to stay on the node it was
// started against, so a disconnect is printed ("E ...") and ends the program with exit code 3.
//
// Build (offline, GOPATH mode against Debian's golang-github-nats-io-go-nats-dev), as meson does:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOENV=off GOPROXY=off \
//	    go build -o cluster-netns-client tests/integration/cluster_netns_client.go
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
)

var (
	out   = os.Stdout
	outMu sync.Mutex
)

func say(format string, a ...interface{}) {
	outMu.Lock()
	fmt.Fprintf(out, format+"\n", a...)
	outMu.Unlock()
}

func nowMs() int64 { return time.Now().UnixNano() / int64(time.Millisecond) }

type errs struct {
	mu   sync.Mutex
	list []string
}

func (e *errs) add(s string) {
	e.mu.Lock()
	if len(e.list) < 50 {
		e.list = append(e.list, s)
	}
	e.mu.Unlock()
	say("E %s", s)
}

func (e *errs) get() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string{}, e.list...)
}

// Set before the program closes its own connection: nats.go then reports a disconnect too.
var closing int32

func connect(url, name string, e *errs) *nats.Conn {
	nc, err := nats.Connect(url,
		nats.Name(name),
		nats.NoReconnect(),
		nats.Timeout(5*time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if atomic.LoadInt32(&closing) != 0 {
				return
			}
			e.add(fmt.Sprintf("disconnected: %v", err))
			os.Exit(3)
		}),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
			e.add(fmt.Sprintf("async error: %v", err))
		}))
	if err != nil {
		fmt.Fprintf(os.Stderr, "connect %s: %v\n", url, err)
		os.Exit(2)
	}
	return nc
}

func stopSignal() chan os.Signal {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	return c
}

func runPub(url, subj string, rate float64, size int) {
	var e errs
	nc := connect(url, "netns-pub", &e)
	stop := stopSignal()
	if size < 8 {
		size = 8
	}
	payload := make([]byte, size)
	var mu sync.Mutex
	var seq uint64
	var maxBlock time.Duration
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				mu.Lock()
				s := seq
				mu.Unlock()
				say("P %d %d", s, nowMs())
			}
		}
	}()
	start := time.Now()
	last := start
loop:
	for {
		select {
		case <-stop:
			break loop
		default:
		}
		now := time.Now()
		if d := now.Sub(last); d > maxBlock {
			maxBlock = d
		}
		last = now
		due := uint64(now.Sub(start).Seconds() * rate)
		for seq < due {
			binary.BigEndian.PutUint64(payload, seq+1)
			if err := nc.Publish(subj, payload); err != nil {
				e.add(fmt.Sprintf("publish %d: %v", seq+1, err))
				break loop
			}
			mu.Lock()
			seq++
			mu.Unlock()
		}
		time.Sleep(time.Millisecond)
	}
	close(done)
	if err := nc.FlushTimeout(10 * time.Second); err != nil {
		e.add(fmt.Sprintf("final flush: %v", err))
	}
	res := map[string]interface{}{
		"published":    seq,
		"max_block_ms": maxBlock.Milliseconds(),
		"errors":       e.get(),
	}
	b, _ := json.Marshal(res)
	say("%s", b)
	atomic.StoreInt32(&closing, 1)
	nc.Close()
}

type subState struct {
	mu           sync.Mutex
	count        uint64
	first, last  uint64
	seen         []bool
	duplicates   uint64
	outOfOrder   uint64
	gaps         [][2]uint64
	missing      uint64
	lastAt       time.Time
	maxGap       time.Duration
	maxGapEndSeq uint64
}

func runSub(url, subj string) {
	var e errs
	nc := connect(url, "netns-sub", &e)
	st := &subState{}
	sub, err := nc.Subscribe(subj, func(m *nats.Msg) {
		if len(m.Data) < 8 {
			e.add(fmt.Sprintf("short payload of %d bytes", len(m.Data)))
			return
		}
		s := binary.BigEndian.Uint64(m.Data)
		now := time.Now()
		st.mu.Lock()
		defer st.mu.Unlock()
		st.count++
		for uint64(len(st.seen)) <= s {
			st.seen = append(st.seen, make([]bool, len(st.seen)+1024)...)
		}
		if st.seen[s] {
			st.duplicates++
		}
		st.seen[s] = true
		if st.count == 1 {
			st.first = s
		} else {
			if d := now.Sub(st.lastAt); d > st.maxGap {
				st.maxGap = d
				st.maxGapEndSeq = s
			}
			if s <= st.last {
				st.outOfOrder++
			} else if s > st.last+1 {
				if len(st.gaps) < 200 {
					st.gaps = append(st.gaps, [2]uint64{st.last + 1, s - 1})
				}
				st.missing += s - st.last - 1
			}
		}
		st.lastAt = now
		if s > st.last {
			st.last = s
		}
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "subscribe: %v\n", err)
		os.Exit(2)
	}
	sub.SetPendingLimits(-1, -1)
	if err := nc.FlushTimeout(5 * time.Second); err != nil {
		fmt.Fprintf(os.Stderr, "flush after subscribe: %v\n", err)
		os.Exit(2)
	}
	say("R")
	stop := stopSignal()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
loop:
	for {
		select {
		case <-stop:
			break loop
		case <-t.C:
			st.mu.Lock()
			c, l := st.count, st.last
			st.mu.Unlock()
			say("S %d %d %d", c, l, nowMs())
		}
	}
	st.mu.Lock()
	res := map[string]interface{}{
		"count":               st.count,
		"first":               st.first,
		"last":                st.last,
		"duplicates":          st.duplicates,
		"out_of_order":        st.outOfOrder,
		"gaps":                st.gaps,
		"missing":             st.missing,
		"max_interarrival_ms": st.maxGap.Milliseconds(),
		"max_gap_end_seq":     st.maxGapEndSeq,
		"errors":              e.get(),
	}
	st.mu.Unlock()
	b, _ := json.Marshal(res)
	say("%s", b)
	atomic.StoreInt32(&closing, 1)
	nc.Close()
}

func main() {
	mode := flag.String("mode", "", "pub or sub")
	url := flag.String("s", nats.DefaultURL, "server URL")
	subj := flag.String("subj", "netns.seq", "subject")
	rate := flag.Float64("rate", 2000, "pub: messages per second")
	size := flag.Int("size", 64, "pub: payload size (at least 8)")
	flag.Parse()
	switch *mode {
	case "pub":
		runPub(*url, *subj, *rate, *size)
	case "sub":
		runSub(*url, *subj)
	default:
		fmt.Fprintln(os.Stderr, "usage: cluster-netns-client -mode pub|sub [-s URL] [-subj S] [-rate N] [-size N]")
		os.Exit(2)
	}
}
