// Benchmarks nats-server's own Sublist on the same subscription patterns and
// published subjects as bench/subjects/subjects_bench.cc, so the two can be
// compared on one machine. It is compiled inside nats-server's `server`
// package (Sublist and subscription are unexported) by run.sh; see README.md.

package server

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

type natrixRng struct{ s uint64 }

// splitmix64, identical to the C++ benchmark's generator.
func (r *natrixRng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *natrixRng) below(n uint32) uint32 { return uint32(r.next() % uint64(n)) }

func natrixLiteral(i uint32) string {
	return "org" + strconv.Itoa(int(i%10)) + ".svc" + strconv.Itoa(int((i/10)%100)) +
		".inst" + strconv.Itoa(int((i/1000)%100)) + ".e" + strconv.Itoa(int(i))
}

const (
	mixLiteral = 0
	mixStar    = 1
	mixGt      = 2
)

func natrixPatterns(mix int, n uint32) []string {
	r := natrixRng{s: 1234 + uint64(mix)}
	out := make([]string, 0, n)
	for i := uint32(0); i < n; i++ {
		s := natrixLiteral(i)
		if mix == mixStar && i&1 == 1 {
			toks := strings.Split(s, ".")
			toks[r.below(4)] = "*"
			s = strings.Join(toks, ".")
		} else if mix == mixGt && i&1 == 1 {
			k := r.below(100)
			depth := 3
			if k < 2 {
				depth = 1
			} else if k < 30 {
				depth = 2
			}
			toks := strings.Split(s, ".")
			s = strings.Join(toks[:depth], ".") + ".>"
		}
		out = append(out, s)
	}
	return out
}

func natrixPublish(seed uint64, n uint32) []string {
	r := natrixRng{s: seed}
	out := make([]string, 65536)
	for i := range out {
		out[i] = natrixLiteral(r.below(n))
	}
	return out
}

func natrixBuild(mix int, n uint32, cache bool) (*Sublist, []*subscription) {
	s := NewSublist(cache)
	subs := make([]*subscription, n)
	for i, p := range natrixPatterns(mix, n) {
		subs[i] = &subscription{subject: []byte(p)}
		if err := s.Insert(subs[i]); err != nil {
			panic(err)
		}
	}
	return s, subs
}

var natrixMixes = []struct {
	name string
	mix  int
}{{"literal", mixLiteral}, {"star", mixStar}, {"gt", mixGt}}

var natrixSizes = []uint32{10000, 100000}

func BenchmarkNatrixMatchCached(b *testing.B) {
	for _, m := range natrixMixes {
		for _, n := range natrixSizes {
			b.Run(m.name+"/"+strconv.Itoa(int(n)), func(b *testing.B) {
				s, _ := natrixBuild(m.mix, n, true)
				pub := natrixPublish(99, n)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					s.Match(pub[i&1023])
				}
			})
		}
	}
}

func BenchmarkNatrixMatchUncached(b *testing.B) {
	for _, m := range natrixMixes {
		for _, n := range natrixSizes {
			b.Run(m.name+"/"+strconv.Itoa(int(n)), func(b *testing.B) {
				s, _ := natrixBuild(m.mix, n, false)
				pub := natrixPublish(99, n)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					s.Match(pub[i&65535])
				}
			})
		}
	}
}

func BenchmarkNatrixInsert(b *testing.B) {
	for _, m := range natrixMixes {
		b.Run(m.name+"/100000", func(b *testing.B) {
			pats := natrixPatterns(m.mix, 100000)
			subs := make([]*subscription, len(pats))
			for i, p := range pats {
				subs[i] = &subscription{subject: []byte(p)}
			}
			b.ResetTimer()
			var spent time.Duration
			for it := 0; it < b.N; it++ {
				s := NewSublistWithCache()
				start := time.Now()
				for _, sub := range subs {
					s.Insert(sub)
				}
				spent += time.Since(start)
			}
			b.ReportMetric(float64(spent.Nanoseconds())/float64(b.N*len(subs)), "ns/insert")
		})
	}
}

func BenchmarkNatrixRemove(b *testing.B) {
	for _, m := range natrixMixes {
		b.Run(m.name+"/100000", func(b *testing.B) {
			total := 0
			var spent time.Duration
			for it := 0; it < b.N; it++ {
				b.StopTimer()
				s, subs := natrixBuild(m.mix, 100000, true)
				b.StartTimer()
				start := time.Now()
				for _, sub := range subs {
					s.Remove(sub)
				}
				spent += time.Since(start)
				total += len(subs)
			}
			b.ReportMetric(float64(spent.Nanoseconds())/float64(total), "ns/remove")
		})
	}
}
