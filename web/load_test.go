package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestLoad posts events from 200 concurrent clients over loopback to a
// server on the default SQLite store: no answer may be an error other than
// 429 or 503 (overload), and every event answered 201 must be recorded
// once, nothing else. It runs 2 s by default; SETTLE_LOAD=30s (or any
// duration; 1 means 30s) runs it longer, for BENCHMARKS.md.
func TestLoad(t *testing.T) {
	duration := 2 * time.Second
	if v := os.Getenv("SETTLE_LOAD"); v != "" {
		duration = 30 * time.Second
		if d, err := time.ParseDuration(v); err == nil {
			duration = d
		}
	} else if testing.Short() {
		t.Skip("the load test; SETTLE_LOAD=30s runs the long one")
	}
	const clients = 200
	e := newEnv(t, nil)
	ts := httptest.NewServer(e.srv) // 127.0.0.1, a real TCP listener
	defer ts.Close()
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}

	type result struct {
		created, replayed, busy int
		latencies               []time.Duration
		err                     error
	}
	results := make([]result, clients)
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			res := &results[c]
			for i := 0; ctx.Err() == nil; i++ {
				// Every tenth post repeats the previous event: a client
				// retrying must get 200 and record nothing.
				n := i
				if i%10 == 9 {
					n = i - 1
				}
				body := fmt.Sprintf(`{"id":"load-%d-%d","type":"payment.captured","at":"2026-11-02T09:30:00Z","payment":"p-%d-%d",`+
					`"provider":"stripe","currency":"usd","amount":"10.00","fees":[{"type":"stripe_fee","amount":"0.59"}]}`, c, n, c, n)
				req, _ := http.NewRequest("POST", ts.URL+"/api/events", bytes.NewBufferString(body))
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					res.err = err
					return
				}
				msg, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				res.latencies = append(res.latencies, time.Since(t0))
				switch resp.StatusCode {
				case http.StatusCreated:
					res.created++
				case http.StatusOK:
					res.replayed++
				case http.StatusTooManyRequests, http.StatusServiceUnavailable:
					res.busy++
					if i%10 != 9 {
						i-- // post the same event again
					}
				default:
					res.err = fmt.Errorf("client %d: %d %s", c, resp.StatusCode, msg)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var created, replayed, busy int
	var all []time.Duration
	for _, r := range results {
		if r.err != nil {
			t.Fatal(r.err)
		}
		created += r.created
		replayed += r.replayed
		busy += r.busy
		all = append(all, r.latencies...)
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration { return all[int(p*float64(len(all)-1))] }
	recorded := e.entries()
	t.Logf("%d clients for %v: %d requests (%.0f/s); %d events recorded (%.0f/s), %d replays answered 200, %d answered 503/429; "+
		"latency p50 %v, p99 %v, max %v", clients, elapsed.Round(time.Millisecond), len(all), float64(len(all))/elapsed.Seconds(),
		created, float64(created)/elapsed.Seconds(), replayed, busy, pct(0.5).Round(time.Microsecond), pct(0.99).Round(time.Microsecond),
		all[len(all)-1].Round(time.Microsecond))
	if recorded != created {
		t.Errorf("%d events answered 201 but %d recorded", created, recorded)
	}
	if created == 0 {
		t.Error("nothing was recorded")
	}
	if vs, err := e.books.Verify(context.Background()); err != nil || len(vs) > 0 {
		t.Errorf("verify after the load: %v %v", err, vs)
	}
}
