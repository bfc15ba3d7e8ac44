package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

type scenario struct {
	key        string // for -scenarios
	name, addr string
	// addrs, when set, are several servers (replicas) of one database;
	// worker w uses addrs[w%len(addrs)], as a load balancer would.
	addrs []string
	// pathFmt has one %d, filled with a random number below n per request.
	pathFmt   string
	n         int
	auth      string
	wantTotal int // when set, every response must have this totalResults
	wantItems int // when set, every response must have this many Resources
}

type result struct {
	rps      float64
	p50, p99 time.Duration
	errors   int
}

// drive runs the load: conns workers, each on its own keep-alive
// connection, for d after a short warm-up. With rate 0 it is a closed
// loop (each worker sends its next request when the last one answered),
// which measures the most the server can do. With a rate it is an open
// loop: requests are due at fixed intervals, rate per second in all, and
// each latency counts from when its request was due, so time spent waiting
// for a free connection is counted rather than hidden (coordinated
// omission). Bodies are checked on a sample so a fast wrong answer cannot
// pass.
func drive(ctx context.Context, sc scenario, conns int, d time.Duration, rate float64) (result, error) {
	transport := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}

	run := func(d time.Duration, record bool) ([][]time.Duration, int, error) {
		var wg sync.WaitGroup
		lat := make([][]time.Duration, conns)
		errs := make([]int, conns)
		var firstErr error
		var errOnce sync.Once
		deadline := time.Now().Add(d)
		due := schedule(rate, deadline)
		for w := 0; w < conns; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), 42))
				var buf bytes.Buffer
				addr := sc.addr
				if len(sc.addrs) > 0 {
					addr = sc.addrs[w%len(sc.addrs)]
				}
				for n := 0; ; n++ {
					if ctx.Err() != nil {
						return
					}
					var start time.Time
					if due != nil {
						t, ok := <-due
						if !ok {
							return
						}
						time.Sleep(time.Until(t))
						start = t
					} else if !time.Now().Before(deadline) {
						return
					}
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+fmt.Sprintf(sc.pathFmt, rng.IntN(max(sc.n, 1))), nil)
					if sc.auth != "" {
						req.Header.Set("Authorization", "Bearer "+sc.auth)
					}
					if due == nil {
						start = time.Now()
					}
					resp, err := client.Do(req)
					if err != nil {
						errs[w]++
						continue
					}
					// One buffer per worker: the client shares the machine
					// with the server, so it should not allocate 70 KB per page.
					buf.Reset()
					_, err = buf.ReadFrom(resp.Body)
					resp.Body.Close()
					body := buf.Bytes()
					elapsed := time.Since(start)
					if err != nil || resp.StatusCode != http.StatusOK {
						errs[w]++
						errOnce.Do(func() { firstErr = fmt.Errorf("status %d: %.200s", resp.StatusCode, body) })
						continue
					}
					if n%50 == 0 {
						if err := check(sc, body); err != nil {
							errOnce.Do(func() { firstErr = err })
							errs[w]++
						}
					}
					if record {
						lat[w] = append(lat[w], elapsed)
					}
				}
			}(w)
		}
		wg.Wait()
		total := 0
		for _, e := range errs {
			total += e
		}
		return lat, total, firstErr
	}

	if _, _, err := run(time.Second, false); err != nil {
		return result{}, err
	}
	start := time.Now()
	lat, errs, err := run(d, true)
	elapsed := time.Since(start)
	if err != nil {
		return result{}, err
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return result{}, fmt.Errorf("no successful requests")
	}
	pct := func(p float64) time.Duration { return all[min(len(all)-1, int(float64(len(all))*p))] }
	return result{rps: float64(len(all)) / elapsed.Seconds(), p50: pct(0.50), p99: pct(0.99), errors: errs}, nil
}

// schedule returns the due times of an open loop, rate per second until
// deadline, or nil for a closed loop. The channel holds every due time not
// yet taken, so a slow server makes requests late, never fewer.
func schedule(rate float64, deadline time.Time) <-chan time.Time {
	if rate <= 0 {
		return nil
	}
	start := time.Now()
	n := int(time.Until(deadline).Seconds()*rate) + 1
	due := make(chan time.Time, n)
	for i := range n {
		t := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if !t.Before(deadline) {
			break
		}
		due <- t
	}
	close(due)
	return due
}

func check(sc scenario, body []byte) error {
	if sc.wantTotal == 0 && sc.wantItems == 0 {
		return nil
	}
	var lr struct {
		TotalResults int               `json:"totalResults"`
		Resources    []json.RawMessage `json:"Resources"`
	}
	if err := json.Unmarshal(body, &lr); err != nil {
		return fmt.Errorf("bad list response: %w", err)
	}
	if sc.wantTotal != 0 && lr.TotalResults != sc.wantTotal {
		return fmt.Errorf("totalResults %d, want %d", lr.TotalResults, sc.wantTotal)
	}
	if sc.wantItems != 0 && len(lr.Resources) != sc.wantItems {
		return fmt.Errorf("%d resources, want %d", len(lr.Resources), sc.wantItems)
	}
	return nil
}
