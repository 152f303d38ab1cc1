// natsgo-bench: publish/subscribe throughput measured with the STOCK nats.go client.
//
// It drives a server the way `nats bench` does: every publisher and every subscriber has its own
// connection, publishers call nc.Publish as fast as nats.go allows and nc.Flush(Timeout) at the end,
// subscribers use nc.Subscribe (or nc.QueueSubscribe with -queue) with an async callback. Nothing
// here reads faster than a real application would: each delivered message goes through nats.go's
// parser, its per-subscription pending queue and a callback goroutine.
//
// Every payload starts with 12 bytes: the publisher id (uint32, big endian) and that publisher's
// sequence number (uint64, big endian, from 1). Subscribers check, per publisher, that sequences
// arrive in increasing order, that none arrives twice and (at the end) that none is missing:
//   - fan-out (no -queue): every subscriber must receive all -msgs messages;
//   - queue group (-queue NAME): the members together must receive each message exactly once.
//
// The program waits until every expected message has arrived or -timeout passes, then prints one
// JSON line and exits 0 only if nothing was lost, duplicated or out of order (1 otherwise, 2 when
// it could not run at all).
//
// Clusters: -pub-url and -sub-url put the publishers and the subscribers on other servers than -s
// (each a comma-separated list, used round-robin: publisher i on the i-th URL, subscriber j on the
// j-th). A subscriber's flush only proves that ITS server has the subscription; the publishers'
// server learns it over a route a little later, and anything published before that is dropped
// there. So when either flag is given, every subscriber connection also subscribes to a probe
// subject (after its real subscription, so its server announces the probe last), and each
// publisher connection sends requests to every probe until one is answered: once a probe reaches
// its subscriber through the publisher's server, that server knows the real subscription too.
// Probe traffic never touches the measured subject.
//
// Build (offline, GOPATH mode, Debian's golang-github-nats-io-go-nats-dev): bench/stock/build.sh.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

const headerLen = 12 // publisher id (4) + sequence (8)

type result struct {
	Published     int64    `json:"published"`
	Received      int64    `json:"received"`
	Expected      int64    `json:"expected"`
	Lost          int64    `json:"lost"`
	OutOfOrder    int64    `json:"out_of_order"`
	Duplicates    int64    `json:"duplicates"`
	Errors        []string `json:"errors"`
	PubMsgsPerS   float64  `json:"pub_msgs_per_s"`
	SubMsgsPerS   float64  `json:"sub_msgs_per_s"`
	ElapsedS      float64  `json:"elapsed_s"`
	PubElapsedS   float64  `json:"pub_elapsed_s"`
	SubWindowS    float64  `json:"sub_window_s"`
	PerSub        []int64  `json:"per_sub_received"`
	Mode          string   `json:"mode"`
	Pubs          int      `json:"pubs"`
	Subs          int      `json:"subs"`
	Size          int      `json:"size"`
	SpinNs        int64    `json:"spin_ns"`
	ClientVersion string   `json:"client_version"`
	TimedOut      bool     `json:"timed_out"`
}

// errorLog collects asynchronous errors, counting repeats of the same text.
type errorLog struct {
	mu     sync.Mutex
	counts map[string]int
	order  []string
}

func (e *errorLog) add(format string, args ...interface{}) {
	msg := fmt.Sprintf(format, args...)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.counts == nil {
		e.counts = map[string]int{}
	}
	if e.counts[msg] == 0 {
		e.order = append(e.order, msg)
	}
	e.counts[msg]++
}

func (e *errorLog) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []string{}
	for _, m := range e.order {
		if n := e.counts[m]; n > 1 {
			out = append(out, fmt.Sprintf("%s (x%d)", m, n))
		} else {
			out = append(out, m)
		}
	}
	return out
}

// seen counts deliveries of each (publisher, sequence). In fan-out every subscriber has its own
// table; in a queue group the members share one, hence the atomic adds.
type seen struct {
	perPub [][]int32
}

func newSeen(pubCounts []int64) *seen {
	s := &seen{perPub: make([][]int32, len(pubCounts))}
	for i, n := range pubCounts {
		s.perPub[i] = make([]int32, n+1) // index = sequence, from 1
	}
	return s
}

type subscriber struct {
	id       int
	table    *seen
	lastSeq  []uint64 // per publisher, for this subscriber's order check (one callback goroutine)
	received int64    // all deliveries, atomic
	firstNs  int64    // first delivery, atomic (0 = none)
	lastNs   int64    // last delivery seen by the sampler or at completion, atomic
}

func spin(ns int64) {
	if ns <= 0 {
		return
	}
	start := time.Now()
	for time.Since(start) < time.Duration(ns) {
	}
}

func main() {
	url := flag.String("s", nats.DefaultURL, "server URL")
	pubURL := flag.String("pub-url", "", "publishers' server URLs, comma-separated, round-robin (default -s)")
	subURL := flag.String("sub-url", "", "subscribers' server URLs, comma-separated, round-robin (default -s)")
	subject := flag.String("subject", "bench.stock", "subject")
	pubs := flag.Int("pubs", 1, "publishers (one connection each)")
	subs := flag.Int("subs", 1, "subscribers (one connection each)")
	queue := flag.String("queue", "", "queue group name: subscribers join it (each message once across them)")
	msgs := flag.Int64("msgs", 100000, "messages in total, split across the publishers")
	size := flag.Int("size", 128, "payload bytes (at least 12: publisher id + sequence)")
	spinNs := flag.Int64("spin-ns", 0, "busy work per message in the subscriber callback, ns (a slow consumer)")
	timeout := flag.Duration("timeout", 60*time.Second, "give up waiting for the expected messages after this")
	tlsCA := flag.String("tls-ca", "", "CA file: connect with TLS, verifying the server against it")
	connects := flag.Int("connects", 0, "connect-rate mode: open and close this many connections (CONNECT+PING each), then report connections/s")
	workers := flag.Int("workers", 8, "connect-rate mode: connections set up at once")
	flag.Parse()
	var tlsOpts []nats.Option
	if *tlsCA != "" {
		tlsOpts = append(tlsOpts, nats.RootCAs(*tlsCA), nats.Secure())
	}
	if *connects > 0 {
		connectRate(*url, *connects, *workers, tlsOpts)
		return
	}

	res := &result{Errors: []string{}, Pubs: *pubs, Subs: *subs, Size: *size, SpinNs: *spinNs,
		ClientVersion: "nats.go " + nats.Version, Mode: "fanout"}
	if *queue != "" {
		res.Mode = "queue"
	}
	fail := func(format string, args ...interface{}) {
		res.Errors = append(res.Errors, fmt.Sprintf(format, args...))
		out, _ := json.Marshal(res)
		fmt.Println(string(out))
		os.Exit(2)
	}
	if *pubs < 1 || *subs < 1 || *msgs < 1 {
		fail("-pubs, -subs and -msgs must be at least 1")
	}
	if *size < headerLen {
		fail("-size must be at least %d bytes", headerLen)
	}
	// Server URLs per role; one entry each (-s) unless -pub-url/-sub-url split them.
	split := func(list string) []string {
		out := []string{}
		for _, u := range strings.Split(list, ",") {
			if u = strings.TrimSpace(u); u != "" {
				out = append(out, u)
			}
		}
		if len(out) == 0 {
			out = []string{*url}
		}
		return out
	}
	pubURLs, subURLs := split(*pubURL), split(*subURL)
	probe := *pubURL != "" || *subURL != ""
	probePrefix := fmt.Sprintf("_NATSGO_BENCH_PROBE.%d.%d", os.Getpid(), time.Now().UnixNano())

	// Messages per publisher: N/pubs each, the remainder to the first ones.
	pubCounts := make([]int64, *pubs)
	for i := range pubCounts {
		pubCounts[i] = *msgs / int64(*pubs)
		if int64(i) < *msgs%int64(*pubs) {
			pubCounts[i]++
		}
	}
	expected := *msgs * int64(*subs)
	if *queue != "" {
		expected = *msgs
	}
	res.Expected = expected

	errs := &errorLog{}
	var unique int64 // first deliveries of an expected (subscriber table, publisher, sequence)
	var outOfOrder, duplicates int64
	done := make(chan struct{})
	var doneOnce sync.Once
	var doneNs int64
	t0 := time.Now()
	nowNs := func() int64 { return int64(time.Since(t0)) }

	options := func(name string) []nats.Option {
		return append(append([]nats.Option{}, tlsOpts...),
			nats.Name(name),
			nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
				if sub != nil {
					errs.add("%s: async error on %s: %v", name, sub.Subject, err)
				} else {
					errs.add("%s: async error: %v", name, err)
				}
			}),
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
				if err != nil {
					errs.add("%s: disconnected: %v", name, err)
				}
			}),
			nats.ReconnectHandler(func(_ *nats.Conn) { errs.add("%s: reconnected", name) }),
		)
	}

	var shared *seen
	if *queue != "" {
		shared = newSeen(pubCounts)
	}
	subscribers := make([]*subscriber, *subs)
	subConns := make([]*nats.Conn, *subs)
	for i := 0; i < *subs; i++ {
		s := &subscriber{id: i, lastSeq: make([]uint64, *pubs), table: shared}
		if s.table == nil {
			s.table = newSeen(pubCounts)
		}
		subscribers[i] = s
		name := fmt.Sprintf("natsgo-bench-sub-%d", i)
		surl := subURLs[i%len(subURLs)]
		nc, err := nats.Connect(surl, options(name)...)
		if err != nil {
			fail("%s: connect %s: %v", name, surl, err)
		}
		subConns[i] = nc
		handler := func(m *nats.Msg) {
			if *spinNs > 0 {
				spin(*spinNs)
			}
			n := atomic.AddInt64(&s.received, 1)
			if n == 1 {
				atomic.StoreInt64(&s.firstNs, nowNs())
			} else if n&1023 == 0 {
				atomic.StoreInt64(&s.lastNs, nowNs())
			}
			if len(m.Data) < headerLen {
				errs.add("sub %d: short payload (%d bytes)", s.id, len(m.Data))
				return
			}
			pub := binary.BigEndian.Uint32(m.Data[0:4])
			seq := binary.BigEndian.Uint64(m.Data[4:12])
			if int(pub) >= len(pubCounts) || seq == 0 || seq > uint64(pubCounts[pub]) {
				errs.add("sub %d: unexpected header pub=%d seq=%d", s.id, pub, seq)
				return
			}
			if atomic.AddInt32(&s.table.perPub[pub][seq], 1) > 1 {
				atomic.AddInt64(&duplicates, 1)
				return
			}
			// Per publisher, per subscriber, sequences must increase. In a queue group a member
			// sees a subsequence, so only "not increasing" is out of order, not a gap.
			if seq <= s.lastSeq[pub] {
				atomic.AddInt64(&outOfOrder, 1)
			} else {
				s.lastSeq[pub] = seq
			}
			if atomic.AddInt64(&unique, 1) == expected {
				atomic.StoreInt64(&doneNs, nowNs())
				doneOnce.Do(func() { close(done) })
			}
		}
		var sub *nats.Subscription
		if *queue != "" {
			sub, err = nc.QueueSubscribe(*subject, *queue, handler)
		} else {
			sub, err = nc.Subscribe(*subject, handler)
		}
		if err != nil {
			fail("%s: subscribe: %v", name, err)
		}
		// No client-side limits: we measure the server. With nats.go's defaults (512k messages or
		// 64 MB pending per subscription) a callback slower than the publisher makes the CLIENT
		// drop messages and report ErrSlowConsumer, whatever the server does; a server that
		// throttles its publishers must not be charged with drops that happen in the client.
		// A consequence worth knowing: nats.go reads the socket in its own goroutine and queues
		// for the callback, so -spin-ns slows the application, not the socket; the backlog grows
		// in this process's memory and the server sees a fast reader. Server-side flow control
		// engages only when the reader goroutine itself falls behind (e.g. CPU starved).
		if err := sub.SetPendingLimits(-1, -1); err != nil {
			fail("%s: SetPendingLimits: %v", name, err)
		}
		if probe {
			// After the real subscription, on the same connection: see the comment at the top.
			pc := nc
			if _, err := nc.Subscribe(fmt.Sprintf("%s.%d", probePrefix, i), func(m *nats.Msg) {
				if m.Reply != "" {
					pc.Publish(m.Reply, nil)
				}
			}); err != nil {
				fail("%s: subscribe to the probe: %v", name, err)
			}
		}
		// A round trip, so the server has registered the subscription before anyone publishes.
		if err := nc.Flush(); err != nil {
			fail("%s: flush after subscribe: %v", name, err)
		}
	}

	pubConns := make([]*nats.Conn, *pubs)
	for i := range pubConns {
		name := fmt.Sprintf("natsgo-bench-pub-%d", i)
		purl := pubURLs[i%len(pubURLs)]
		nc, err := nats.Connect(purl, options(name)...)
		if err != nil {
			fail("%s: connect %s: %v", name, purl, err)
		}
		pubConns[i] = nc
	}
	if probe {
		// Wait until every publisher's server routes to every subscriber (see the top).
		probeDeadline := time.Now().Add(*timeout)
		for i, nc := range pubConns {
			for j := 0; j < *subs; j++ {
				subj := fmt.Sprintf("%s.%d", probePrefix, j)
				for {
					if _, err := nc.Request(subj, nil, 100*time.Millisecond); err == nil {
						break
					}
					if time.Now().After(probeDeadline) {
						fail("publisher %d (%s): subscriber %d (%s) not reachable within -timeout",
							i, pubURLs[i%len(pubURLs)], j, subURLs[j%len(subURLs)])
					}
					time.Sleep(5 * time.Millisecond) // "no responders" comes back at once
				}
			}
		}
	}

	// Publishers start together; each publishes its share as fast as nats.go allows.
	// Per-publisher counts, a cache line apart, summed at the end.
	published := make([]int64, 8**pubs)
	var pubStartNs int64
	var pubEndNs int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	deadline := time.Now().Add(*timeout)
	for i, nc := range pubConns {
		wg.Add(1)
		go func(id int, nc *nats.Conn, count int64) {
			defer wg.Done()
			payload := make([]byte, *size)
			for j := headerLen; j < len(payload); j++ {
				payload[j] = byte('a' + j%26)
			}
			binary.BigEndian.PutUint32(payload[0:4], uint32(id))
			<-start
			for seq := int64(1); seq <= count; seq++ {
				binary.BigEndian.PutUint64(payload[4:12], uint64(seq))
				if err := nc.Publish(*subject, payload); err != nil {
					errs.add("pub %d: publish #%d: %v", id, seq, err)
					break
				}
				// Counted as it goes: a run that times out with a publisher blocked in
				// Publish (a server that stopped reading it) still reports what went out.
				atomic.AddInt64(&published[8*id], 1)
			}
			// Flush with the run's deadline rather than nc.Flush's fixed 10 s: a server that
			// paces its publishers to a slow consumer may take longer than that to drain.
			if err := nc.FlushTimeout(time.Until(deadline)); err != nil {
				errs.add("pub %d: flush: %v", id, err)
			}
			end := nowNs()
			for {
				old := atomic.LoadInt64(&pubEndNs)
				if end <= old || atomic.CompareAndSwapInt64(&pubEndNs, old, end) {
					break
				}
			}
		}(i, nc, pubCounts[i])
	}
	pubStartNs = nowNs()
	close(start)
	pubsDone := make(chan struct{})
	go func() { wg.Wait(); close(pubsDone) }()

	timer := time.NewTimer(time.Until(deadline))
	select {
	case <-done:
	case <-timer.C:
		res.TimedOut = true
	}
	endNs := nowNs()
	if !res.TimedOut {
		// Every message arrived, so every publish was flushed; wait for the publishers' own
		// bookkeeping (their Flush round trip) briefly.
		select {
		case <-pubsDone:
		case <-time.After(5 * time.Second):
			errs.add("publishers had not returned from Flush 5 s after the last delivery")
		}
	}

	for i := 0; i < *pubs; i++ {
		res.Published += atomic.LoadInt64(&published[8*i])
	}
	res.OutOfOrder = atomic.LoadInt64(&outOfOrder)
	res.Duplicates = atomic.LoadInt64(&duplicates)
	u := atomic.LoadInt64(&unique)
	res.Lost = expected - u
	var first, last int64 = -1, 0
	for _, s := range subscribers {
		n := atomic.LoadInt64(&s.received)
		res.Received += n
		res.PerSub = append(res.PerSub, n)
		if f := atomic.LoadInt64(&s.firstNs); n > 0 && (first < 0 || f < first) {
			first = f
		}
		if l := atomic.LoadInt64(&s.lastNs); l > last {
			last = l
		}
	}
	if d := atomic.LoadInt64(&doneNs); d > last {
		last = d
	}
	if res.TimedOut {
		res.Errors = append(res.Errors, fmt.Sprintf("timed out after %v: %d of %d expected deliveries",
			*timeout, u, expected))
	}
	res.Errors = append(res.Errors, errs.list()...)
	pe := atomic.LoadInt64(&pubEndNs)
	if pe == 0 {
		pe = endNs
	}
	res.PubElapsedS = float64(pe-pubStartNs) / 1e9
	if res.PubElapsedS > 0 {
		res.PubMsgsPerS = float64(res.Published) / res.PubElapsedS
	}
	if first >= 0 && last > first {
		res.SubWindowS = float64(last-first) / 1e9
		res.SubMsgsPerS = float64(res.Received) / res.SubWindowS
	}
	res.ElapsedS = float64(endNs-pubStartNs) / 1e9

	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	if res.Lost != 0 || res.OutOfOrder != 0 || res.Duplicates != 0 || res.TimedOut {
		os.Exit(1)
	}
	// Exit without closing the connections politely: nothing is left to flush, and closing many
	// connections is not part of what is measured.
	os.Exit(0)
}

// connectRate opens and closes n connections, `workers` at a time, each one complete (TCP, INFO,
// TLS when asked, CONNECT, PING/PONG) before it is closed, and prints one JSON line.
func connectRate(url string, n, workers int, opts []nats.Option) {
	type out struct {
		Connects      int      `json:"connects"`
		Failed        int64    `json:"failed"`
		Seconds       float64  `json:"seconds"`
		ConnectsPerS  float64  `json:"connects_per_s"`
		TLS           bool     `json:"tls"`
		ClientVersion string   `json:"client_version"`
		Errors        []string `json:"errors"`
	}
	var next, failed int64
	var mu sync.Mutex
	errs := []string{}
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for atomic.AddInt64(&next, 1) <= int64(n) {
				nc, err := nats.Connect(url, append(append([]nats.Option{}, opts...), nats.NoReconnect())...)
				if err != nil {
					atomic.AddInt64(&failed, 1)
					mu.Lock()
					if len(errs) < 5 {
						errs = append(errs, err.Error())
					}
					mu.Unlock()
					continue
				}
				nc.Close()
			}
		}()
	}
	wg.Wait()
	secs := time.Since(t0).Seconds()
	res := out{Connects: n, Failed: failed, Seconds: secs, ConnectsPerS: float64(int64(n)-failed) / secs,
		TLS: len(opts) > 0, ClientVersion: "nats.go " + nats.Version, Errors: errs}
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
	if failed > 0 {
		os.Exit(2)
	}
}
