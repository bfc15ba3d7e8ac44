package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// walk is the -walk mode: one client follows nextCursor through every
// user, the way a downstream application mirrors the directory, and checks
// that each user comes back exactly once.
func walk(ctx context.Context, addr, token string, users, pageSize, pid int) error {
	client := &http.Client{Timeout: time.Minute}
	seen := make([]bool, users)
	var pageTimes []time.Duration
	var body bytes.Buffer
	cursor := ""
	start := time.Now()
	peakRSS := 0
	for {
		u := "http://" + addr + "/scim/v2/Users?count=" + strconv.Itoa(pageSize) + "&cursor=" + url.QueryEscape(cursor)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		body.Reset()
		_, err = body.ReadFrom(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		pageTimes = append(pageTimes, time.Since(t0))
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("page %d: status %d: %.300s", len(pageTimes), resp.StatusCode, body.Bytes())
		}
		var page struct {
			NextCursor string `json:"nextCursor"`
			Resources  []struct {
				UserName string `json:"userName"`
			} `json:"Resources"`
		}
		if err := json.Unmarshal(body.Bytes(), &page); err != nil {
			return fmt.Errorf("page %d: %w", len(pageTimes), err)
		}
		for _, r := range page.Resources {
			i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.UserName, "user"), "@example.com"))
			if err != nil || i < 0 || i >= users {
				return fmt.Errorf("page %d: unexpected user %q", len(pageTimes), r.UserName)
			}
			if seen[i] {
				return fmt.Errorf("page %d: user %q returned twice", len(pageTimes), r.UserName)
			}
			seen[i] = true
		}
		if len(pageTimes)%100 == 0 {
			peakRSS = max(peakRSS, rssKiB(pid))
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	elapsed := time.Since(start)
	missing := 0
	for _, ok := range seen {
		if !ok {
			missing++
		}
	}
	if missing > 0 {
		return fmt.Errorf("walk ended with %d of %d users never returned", missing, users)
	}
	slices.Sort(pageTimes)
	pct := func(p float64) time.Duration { return pageTimes[min(len(pageTimes)-1, int(float64(len(pageTimes))*p))] }
	fmt.Printf("cursor walk: %d users in %d pages of %d in %s (%.0f users/s), page p50 %.2f ms p99 %.2f ms; every user exactly once\n",
		users, len(pageTimes), pageSize, elapsed.Round(time.Millisecond), float64(users)/elapsed.Seconds(), ms(pct(0.5)), ms(pct(0.99)))
	fmt.Printf("server RSS during the walk: sampled max %d kB, peak (VmHWM) %s\n", max(peakRSS, rssKiB(pid)), procStatus(pid, "VmHWM"))
	return nil
}
